import Foundation
@testable import Gateway
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The whole gateway behind its TLS port: a GET read through PostgreSQL by redis-cli and
/// redis-py over TLS, and the executable's configuration keys and SIGHUP reload.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct TLSGatewayTests {
    private static let seedUser = """
        INSERT INTO users (id, username, email, password_hash) VALUES (7, 'tls_user', 'tls@example.com', 'x');
        """

    @Test func aGetReadsThroughOverTLS() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        let harness = try await GatewayHarness(label: "tls_get", setUp: { try $0.execute(Self.seedUser) }) { configuration in
            configuration.server.tls = certificates.serverSettings
        }
        defer { Task { await harness.stop() } }
        let tlsPort = harness.gateway.server.localTLSPort
        let cli = try await tlsRedisCLI(port: tlsPort, caCertificate: certificates.caCertificate, ["GET", "user:7"])
        #expect(cli.stdout.contains("\"username\": \"tls_user\"") && !cli.stdout.contains("password_hash"), "\(cli)")
        let script = """
            import sys, redis
            client = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]), ssl=True, ssl_ca_certs=sys.argv[2], socket_timeout=5)
            print(client.get("user:7").decode())
            """
        let python = try await runProcess(
            "/usr/bin/env", ["python3", "-c", script, String(tlsPort), certificates.caCertificate], timeout: .seconds(20))
        #expect(python.status == 0 && python.stdout.contains("\"email\": \"tls@example.com\""), "\(python)")
    }

    /// The executable: the keys in a file, `--check-config` naming them, TLS only, and SIGHUP
    /// serving a renewed certificate to new connections while it keeps running.
    @Test func theExecutableServesTLSOnlyAndReloadsOnSIGHUP() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        let (liveCertificate, liveKey) = try certificates.makeLiveCopy()
        let tlsPort = try freePort()
        let file = try ConfigurationFiles.write("""
            server:
              plaintext: no
              tls_port: \(tlsPort)
              tls_cert_file: \(liveCertificate)
              tls_key_file: \(liveKey)
            """)
        defer { ConfigurationFiles.remove(file) }
        let check = try await runProcess(try RepoPaths.gatewayExecutable(), ["--config", file, "--check-config"])
        #expect(check.status == 0, "\(check)")
        #expect(check.stdout.contains("server.plaintext: no\n") && check.stdout.contains("server.tls_port: \(tlsPort)\n")
                && check.stdout.contains("server.tls_cert_file: \(liveCertificate)\n"), "\(check.stdout)")

        let harness = try await GatewayHarness(label: "tls_sighup", setUp: { try $0.execute(Self.seedUser) })
        defer { Task { await harness.stop() } }
        let gateway = try await GatewayProcess(arguments: [
            "--config", file, "--redis-url", harness.configuration.redisURL, "--postgres-url", harness.database.url,
        ])
        #expect(try await Self.certificateName(port: tlsPort, ca: certificates.caCertificate) == "gateway-first")
        try certificates.replaceLiveWithRenewed()
        kill(gateway.process.processIdentifier, SIGHUP)
        var name = ""
        _ = await eventually(timeout: .seconds(10)) {
            name = (try? Self.certificateNameBlocking(port: tlsPort, ca: certificates.caCertificate)) ?? ""
            return name == "gateway-renewed"
        }
        #expect(name == "gateway-renewed")
        #expect(gateway.process.isRunning)
        let get = try await tlsRedisCLI(port: tlsPort, caCertificate: certificates.caCertificate, ["GET", "user:7"])
        #expect(get.stdout.contains("tls_user"), "\(get)")
        let stopped = await gateway.stop()
        #expect(stopped.graceful)
        #expect(stopped.stderr.contains("TLS certificates reloaded"), "\(stopped.stderr)")
        #expect(stopped.stdout.hasPrefix("quicksell-gateway listening for TLS on 127.0.0.1:\(tlsPort)\n"), "\(stopped.stdout)")
        #expect(stopped.stdout.contains("redis-cli --tls"), "\(stopped.stdout)")
    }

    private static func certificateName(port: Int, ca: String) async throws -> String {
        let result = try await runProcess("/usr/bin/env", ["python3", "-c", nameScript, String(port), ca], timeout: .seconds(10))
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// For `eventually`, which polls synchronously: the same with a blocking wait.
    private static func certificateNameBlocking(port: Int, ca: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", nameScript, String(port), ca]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Prints the common name of the certificate the TLS port presents.
    private static let nameScript = """
        import socket, ssl, sys
        context = ssl.create_default_context(cafile=sys.argv[2])
        with context.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5),
                                 server_hostname="127.0.0.1") as s:
            print(dict(pair[0] for pair in s.getpeercert()["subject"])["commonName"])
        """
}
