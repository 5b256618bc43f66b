import Foundation
import Gateway
import Testing

/// The TLS client port against real TLS clients (redis-cli, redis-py) and certificates made
/// with openssl: the good path, a client trusting another CA, an expired server certificate,
/// required client certificates, TLS only, and a certificate reload that drops no connection.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct TLSListenerTests {
    @Test func redisCLIAndRedisPyTalkOverTLS() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        try await withTLSGateway(certificates.serverSettings) { server in
            #expect(server.localTLSPort > 0 && server.localTLSPort != server.localPort)
            let ping = try await tlsRedisCLI(port: server.localTLSPort, caCertificate: certificates.caCertificate, ["PING"])
            #expect(ping.stdout == "PONG\n", "\(ping)")
            let echo = try await tlsRedisCLI(port: server.localTLSPort, caCertificate: certificates.caCertificate, ["ECHO", "secret"])
            #expect(echo.stdout == "secret\n", "\(echo)")
            let python = try await redisPyOverTLS(port: server.localTLSPort, caCertificate: certificates.caCertificate)
            #expect(python.status == 0 && python.stdout == "True\nb'over-tls'\n", "\(python)")
            // The plaintext port still speaks plaintext, and the TLS port refuses plaintext.
            #expect(try RawClient(port: server.localPort).command("PING") == .simpleString("PONG"))
            let plain = try await runProcess(
                "/usr/bin/redis-cli", ["-h", "127.0.0.1", "-p", String(server.localTLSPort), "PING"], timeout: .seconds(10))
            #expect(!plain.stdout.contains("PONG"), "\(plain)")
        }
    }

    /// A client stalled in its handshake (half a ClientHello, or nothing) never sends a request
    /// byte, so the request deadline alone would never close it: the handshake has the same limit.
    @Test func aStalledHandshakeIsClosedByTheRequestDeadline() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        try await withGateway(requestTimeoutSeconds: 1, configure: { $0.tls = certificates.serverSettings }) { server in
            let silent = try RawClient(port: server.localTLSPort)
            let partial = try RawClient(port: server.localTLSPort)
            try partial.send([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])  // the start of a ClientHello record
            #expect(await eventually(timeout: .seconds(5)) { silent.peerClosed && partial.peerClosed },
                    "stalled handshakes were not closed")
            #expect(try RawClient(port: server.localPort).command("INFO", "stats").text?.contains("request_timeouts:2\r\n") == true)
            let good = try await tlsRedisCLI(port: server.localTLSPort, caCertificate: certificates.caCertificate, ["PING"])
            #expect(good.stdout == "PONG\n", "\(good)")
        }
    }

    @Test func configGetAndInfoShowTheTLSPortAndTheClientLimits() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        try await withTLSGateway(certificates.serverSettings) { server in
            let client = try RawClient(port: server.localPort)
            let reply = try client.command("CONFIG", "GET", "tls-port")
            #expect(reply == .array([.bulkString("tls-port"), .bulkString(String(server.localTLSPort))]), "\(reply)")
            let limits = try client.command("CONFIG", "GET", "client-*")
            #expect(limits == .array([
                .bulkString("client-output-buffer-limit"), .bulkString("normal 33554432 262144 0"),
                .bulkString("client-query-buffer-limit"), .bulkString("16777216"),
            ]), "\(limits)")
            #expect(try client.command("INFO", "server").text?.contains("tls_port:\(server.localTLSPort)\r\n") == true)
        }
    }

    @Test func aClientTrustingAnotherCAFailsAndTheGatewayKeepsServing() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        try await withTLSGateway(certificates.serverSettings) { server in
            let cli = try await tlsRedisCLI(port: server.localTLSPort, caCertificate: certificates.wrongCACertificate, ["PING"])
            #expect(!cli.stdout.contains("PONG"))
            #expect((cli.stdout + cli.stderr).contains("certificate verify failed"), "\(cli)")
            let python = try await redisPyOverTLS(port: server.localTLSPort, caCertificate: certificates.wrongCACertificate)
            #expect(python.status == 1 && python.stdout.contains("CERTIFICATE_VERIFY_FAILED"), "\(python)")
            let good = try await tlsRedisCLI(port: server.localTLSPort, caCertificate: certificates.caCertificate, ["PING"])
            #expect(good.stdout == "PONG\n", "\(good)")
            // The failed handshakes left no client behind.
            #expect(await eventually { server.registry.count == 0 })
        }
    }

    @Test func anExpiredServerCertificateFailsVerificationWithoutCrashing() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        let settings = TLSSettings(port: 0, certificateFile: certificates.expiredCertificate, keyFile: certificates.expiredKey)
        try await withTLSGateway(settings) { server in
            let python = try await redisPyOverTLS(port: server.localTLSPort, caCertificate: certificates.caCertificate)
            #expect(python.status == 1 && python.stdout.contains("certificate has expired"), "\(python)")
            let cli = try await tlsRedisCLI(port: server.localTLSPort, caCertificate: certificates.caCertificate, ["PING"])
            #expect(!cli.stdout.contains("PONG") && (cli.stdout + cli.stderr).contains("certificate verify failed"), "\(cli)")
            #expect(try RawClient(port: server.localPort).command("PING") == .simpleString("PONG"))
        }
    }

    @Test func withACAFileClientsMustPresentACertificate() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        let settings = TLSSettings(port: 0, certificateFile: certificates.serverCertificate, keyFile: certificates.serverKey,
                                   caCertificateFile: certificates.caCertificate)
        try await withTLSGateway(settings) { server in
            let anonymous = try await tlsRedisCLI(port: server.localTLSPort, caCertificate: certificates.caCertificate, ["PING"])
            #expect(!anonymous.stdout.contains("PONG"), "\(anonymous)")
            let python = try await redisPyOverTLS(port: server.localTLSPort, caCertificate: certificates.caCertificate)
            #expect(python.status == 1 && !python.stdout.contains("True"), "\(python)")
            let clientCertificate = ["--cert", certificates.clientCertificate, "--key", certificates.clientKey]
            let known = try await tlsRedisCLI(
                port: server.localTLSPort, caCertificate: certificates.caCertificate, ["PING"], extra: clientCertificate)
            #expect(known.stdout == "PONG\n", "\(known)")
            let knownPython = try await redisPyOverTLS(
                port: server.localTLSPort, caCertificate: certificates.caCertificate,
                clientCertificate: (certificates.clientCertificate, certificates.clientKey))
            #expect(knownPython.status == 0 && knownPython.stdout.hasPrefix("True\n"), "\(knownPython)")
            // A certificate from another CA is no better than none: the server's own certificate
            // is signed by the right CA but presented here by a client, so use a self-made one.
            let stranger = try await tlsRedisCLI(
                port: server.localTLSPort, caCertificate: certificates.caCertificate, ["PING"],
                extra: ["--cert", certificates.wrongCACertificate, "--key", certificates.path("wrong-ca.key")])
            #expect(!stranger.stdout.contains("PONG"), "\(stranger)")
        }
    }

    /// TLS 1.2 is the floor: a client offering only TLS 1.1 (allowed on its side by
    /// `@SECLEVEL=0`) is refused by the server, while TLS 1.2 and 1.3 connect.
    @Test func tlsOlderThan1Point2IsRefused() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        try await withTLSGateway(certificates.serverSettings) { server in
            for version in ["-tls1_1", "-tls1_2", "-tls1_3"] {
                let result = try await runProcess(
                    "/usr/bin/openssl",
                    ["s_client", "-connect", "127.0.0.1:\(server.localTLSPort)", version, "-cipher", "DEFAULT@SECLEVEL=0",
                     "-CAfile", certificates.caCertificate, "-quiet", "-ign_eof", "-verify_return_error"],
                    input: "PING\r\nQUIT\r\n", timeout: .seconds(10))
                if version == "-tls1_1" {
                    #expect(!result.stdout.contains("PONG") && result.stderr.contains("protocol version"), "\(result)")
                } else {
                    #expect(result.stdout.contains("+PONG"), "\(version): \(result)")
                }
            }
        }
    }

    @Test func tlsOnlyOpensNoPlaintextPort() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        try await withTLSGateway(certificates.serverSettings, plaintext: false) { server in
            #expect(server.localPort == 0)
            let ping = try await tlsRedisCLI(port: server.localTLSPort, caCertificate: certificates.caCertificate, ["PING"])
            #expect(ping.stdout == "PONG\n", "\(ping)")
        }
    }

    @Test func maxClientsCountsTLSClientsAndRefusesOverTLS() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        try await withTLSGateway(certificates.serverSettings, maxClients: 1) { server in
            let holder = try RawClient(port: server.localPort)
            #expect(try holder.command("PING") == .simpleString("PONG"))
            let refused = try await tlsRedisCLI(port: server.localTLSPort, caCertificate: certificates.caCertificate, ["PING"])
            #expect((refused.stdout + refused.stderr).contains("max number of clients reached"), "\(refused)")
        }
    }

    /// A reload serves new connections the new certificate; a connection opened before keeps
    /// working. A reload whose files are bad fails, naming the key and the path, and changes nothing.
    @Test func reloadServesTheNewCertificateWithoutDroppingConnections() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        let (liveCertificate, liveKey) = try certificates.makeLiveCopy()
        let settings = TLSSettings(port: 0, certificateFile: liveCertificate, keyFile: liveKey)
        try await withTLSGateway(settings) { server in
            let connected = certificates.path("connected"), proceed = certificates.path("proceed")
            async let client = runProcess(
                "/usr/bin/env", ["python3", "-c", Self.reloadClient, String(server.localTLSPort), certificates.caCertificate,
                                 connected, proceed], timeout: .seconds(30))
            let ready = await eventually(timeout: .seconds(15)) { FileManager.default.fileExists(atPath: connected) }
            #expect(ready)
            try certificates.replaceLiveWithRenewed()
            try server.reloadTLS()
            _ = FileManager.default.createFile(atPath: proceed, contents: nil)
            let result = try await client
            #expect(result.stdout == "gateway-first +PONG\n+PONG\ngateway-renewed +PONG\n", "\(result)")

            try Data("not a certificate".utf8).write(to: URL(fileURLWithPath: liveCertificate))
            #expect {
                try server.reloadTLS()
            } throws: { error in
                "\(error)".contains("server.tls_cert_file") && "\(error)".contains(liveCertificate)
            }
            let after = try await redisPyOverTLS(port: server.localTLSPort, caCertificate: certificates.caCertificate)
            #expect(after.status == 0, "the renewed certificate stays in use: \(after)")
        }
    }

    /// Connects, prints the certificate's CN and a PING, signals, waits for the go-ahead, then
    /// PINGs on the same connection and on a new one.
    private static let reloadClient = """
        import os, socket, ssl, sys, time
        port, ca, connected, proceed = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
        context = ssl.create_default_context(cafile=ca)
        def connect():
            raw = socket.create_connection(("127.0.0.1", port), timeout=5)
            return context.wrap_socket(raw, server_hostname="127.0.0.1")
        def name(s):
            return dict(pair[0] for pair in s.getpeercert()["subject"])["commonName"]
        def ping(s):
            s.sendall(b"PING\\r\\n")
            return s.recv(64).decode().strip()
        old = connect()
        print(name(old), ping(old))
        open(connected, "w").close()
        deadline = time.time() + 15
        while not os.path.exists(proceed):
            if time.time() > deadline:
                sys.exit("no go-ahead")
            time.sleep(0.02)
        print(ping(old))
        new = connect()
        print(name(new), ping(new))
        """
}
