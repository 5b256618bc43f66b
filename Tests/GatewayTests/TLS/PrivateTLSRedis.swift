import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Debian's redis-server of the test's own, TLS only (`--port 0 --tls-port …`), with the
/// server certificate of `TestCertificates` (for 127.0.0.1 and localhost); stopped by its PID.
final class PrivateTLSRedis: @unchecked Sendable {
    let port: Int
    let certificates: TestCertificates
    private let process: Process

    /// `requireClientCertificates`: Redis's `tls-auth-clients yes` (a certificate signed by the test CA).
    /// `named`: serve the certificate for redis.test only instead.
    init(certificates: TestCertificates, requireClientCertificates: Bool = false, named: Bool = false) async throws {
        self.certificates = certificates
        port = try PrivateRedis.freePort()
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        process.arguments = ["--port", "0", "--tls-port", String(port), "--bind", "127.0.0.1",
                             "--tls-cert-file", named ? certificates.namedCertificate : certificates.serverCertificate,
                             "--tls-key-file", named ? certificates.namedKey : certificates.serverKey,
                             "--tls-ca-cert-file", certificates.caCertificate,
                             "--tls-auth-clients", requireClientCertificates ? "yes" : "no",
                             "--save", "", "--appendonly", "no", "--databases", "64"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if (try? await cli(["PING"]))?.stdout.contains("PONG") == true { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        stop()
        throw TestFailure("redis-server --tls-port \(port) did not answer within 5 s")
    }

    var url: String { "rediss://127.0.0.1:\(port)" }

    /// `redis-cli --tls` with the test CA and client certificate, bounded to 10 s.
    func cli(_ arguments: [String]) async throws -> SubprocessResult {
        try await tlsRedisCLI(port: port, caCertificate: certificates.caCertificate, arguments,
                              extra: ["--cert", certificates.clientCertificate, "--key", certificates.clientKey])
    }

    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
