import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Three Redis Cluster primaries of the test's own, TLS only (`--tls-cluster yes`: the bus and
/// the addresses `CLUSTER SLOTS` gives are TLS too), the test CA's server certificate; stopped
/// by their PIDs and their folder removed.
final class PrivateTLSCluster: @unchecked Sendable {
    let ports: [Int]
    let certificates: TestCertificates
    private let folder: String
    private var processes: [Process] = []

    init(certificates: TestCertificates) async throws {
        self.certificates = certificates
        folder = NSTemporaryDirectory() + "quicksell-tls-cluster-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        ports = try (0..<3).map { _ in try PrivateRedis.freePort() }
        do {
            for port in ports { try startNode(port) }
            for port in ports { try await waitFor("node \(port) answering", seconds: 5) { try await self.cli(port, ["PING"]).contains("PONG") } }
            let create = try await runProcess(
                "/usr/bin/redis-cli", tlsArguments + ["--cluster", "create"] + ports.map { "127.0.0.1:\($0)" }
                    + ["--cluster-replicas", "0", "--cluster-yes"], timeout: .seconds(30))
            guard create.status == 0, !create.timedOut else { throw TestFailure("cluster create failed: \(create.stdout) \(create.stderr)") }
            for port in ports {
                try await waitFor("cluster_state:ok on \(port)", seconds: 20) {
                    try await self.cli(port, ["CLUSTER", "INFO"]).contains("cluster_state:ok")
                }
            }
        } catch {
            remove()
            throw error
        }
    }

    /// `rediss://` seed URL of the first node only: the others must be discovered.
    var seedURL: String { "rediss://127.0.0.1:\(ports[0])" }

    /// `redis-cli --tls … -p port args` (no redirection following), its output.
    func cli(_ port: Int, _ arguments: [String]) async throws -> String {
        let result = try await runProcess("/usr/bin/redis-cli", tlsArguments + ["-h", "127.0.0.1", "-p", String(port)] + arguments,
                                          timeout: .seconds(10))
        return result.stdout
    }

    func remove() {
        for process in processes where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        processes = []
        try? FileManager.default.removeItem(atPath: folder)
    }

    private var tlsArguments: [String] {
        ["--tls", "--cacert", certificates.caCertificate, "--cert", certificates.clientCertificate, "--key", certificates.clientKey]
    }

    private func startNode(_ port: Int) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        process.arguments = ["--port", "0", "--tls-port", String(port), "--bind", "127.0.0.1",
                             "--cluster-port", String(try PrivateRedis.freePort()),
                             "--tls-cluster", "yes", "--tls-replication", "yes", "--tls-auth-clients", "no",
                             "--tls-cert-file", certificates.serverCertificate, "--tls-key-file", certificates.serverKey,
                             "--tls-ca-cert-file", certificates.caCertificate,
                             "--cluster-enabled", "yes", "--cluster-config-file", "\(folder)/nodes-\(port).conf",
                             "--cluster-node-timeout", "2000", "--dir", folder, "--save", "", "--appendonly", "no"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        processes.append(process)
    }

    private func waitFor(_ what: String, seconds: Double, _ condition: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if (try? await condition()) == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("\(what): not within \(seconds) s")
    }
}
