import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Gateway
import NIOCore
import NIOPosix
import RedisBackend
import RESP
import Testing
import TestSupport

/// The gateway's own connections to Redis over TLS (`rediss://`), against Debian's
/// redis-server listening with `--tls-port` only: fills, hits and invalidations go through;
/// a wrong CA or a wrong host name is refused with the address and the reason.
@Suite(.serialized, .timeLimit(.minutes(1))) struct BackendRedisTLSTests {
    @Test func fillsHitsAndInvalidationsGoThroughATLSRedis() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        let redis = try await PrivateTLSRedis(certificates: certificates)
        defer { redis.stop() }
        let harness = try await GatewayHarness(
            label: "redis_tls", redisURL: redis.url, setUp: ListingRows.setUp(count: 3),
            configure: { $0.redisTLS = RedisTLSSettings(caCertificateFile: certificates.caCertificate) })
        defer { Task { await harness.stop() } }
        try await harness.waitForListener()
        let client = try harness.client()

        let filled = try client.command("GET", "listing:1").string ?? ""
        #expect(InvalidationRaceTests.viewCount(filled) == 0, "fill through the TLS Redis: \(filled)")
        let stored = try await redis.cli(["-n", String(harness.redisDatabase), "GET", "listing:1"])
        #expect(InvalidationRaceTests.viewCount(stored.stdout) == 0, "the filled value is in the TLS Redis: \(stored)")
        #expect(try client.command("GET", "listing:1").string == filled, "a hit")

        try ListingRows.write(try harness.database.connect(), id: 1)
        let invalidated = try await eventually(seconds: 10) {
            InvalidationRaceTests.viewCount(try client.command("GET", "listing:1").string ?? "") == 1
        }
        #expect(invalidated, "the write's invalidation reached the TLS Redis")
    }

    @Test func aWrongCAOrHostNameIsRefusedNamingTheAddressAndTheReason() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        let redis = try await PrivateTLSRedis(certificates: certificates)
        defer { redis.stop() }
        let ca = certificates.caCertificate
        let address = "127.0.0.1:\(redis.port)"

        let wrongCA = try await Self.attempt(redis.url, RedisTLSSettings(caCertificateFile: certificates.wrongCACertificate))
        #expect(wrongCA?.contains("cannot connect to Redis at \(address)") == true, "\(wrongCA ?? "connected")")
        #expect(wrongCA?.contains("TLS certificate verify failed") == true, "\(wrongCA ?? "connected")")

        // By name: the certificate's DNS entry; by IP address: its IP entry.
        #expect(try await Self.attempt("rediss://localhost:\(redis.port)", RedisTLSSettings(caCertificateFile: ca)) == nil)
        #expect(try await Self.attempt(redis.url, RedisTLSSettings(caCertificateFile: ca)) == nil)

        // A certificate for redis.test only (no IP entry: NIOSSL accepts a certificate naming
        // the connected address whatever name was asked for).
        let named = try await PrivateTLSRedis(certificates: certificates, named: true)
        defer { named.stop() }
        let namedAddress = "127.0.0.1:\(named.port)"
        #expect(try await Self.attempt(named.url, RedisTLSSettings(caCertificateFile: ca, serverName: "redis.test")) == nil)
        for (wrong, looked) in [(RedisTLSSettings(caCertificateFile: ca, serverName: "cache.example"), "cache.example"),
                                (RedisTLSSettings(caCertificateFile: ca), "127.0.0.1")] {
            let wrongName = try await Self.attempt(named.url, wrong)
            #expect(wrongName?.contains("cannot connect to Redis at \(namedAddress)") == true, "\(wrongName ?? "connected")")
            #expect(wrongName?.contains("TLS host name mismatch: the server's certificate does not name \(looked)") == true,
                    "\(wrongName ?? "connected")")
        }
        // The name not checked: only the chain matters.
        #expect(try await Self.attempt(named.url, RedisTLSSettings(caCertificateFile: ca, serverName: "cache.example",
                                                                   verifyServerName: false)) == nil)
    }

    /// No TLS at the other end: a plaintext Redis reads the ClientHello as the start of an
    /// inline command and waits for its end; a listener that never reads does not answer at
    /// all. Either way the handshake fails at the connect timeout, naming the address.
    @Test func aServerThatDoesNotSpeakTLSFailsTheHandshakeInTime() async throws {
        let plaintext = try PrivateRedis()
        defer { plaintext.stop() }
        let garbled = try await Self.attempt("rediss://127.0.0.1:\(plaintext.port)", RedisTLSSettings(), connectTimeout: .milliseconds(500))
        #expect(garbled?.contains("cannot connect to Redis at 127.0.0.1:\(plaintext.port): TLS handshake") == true,
                "\(garbled ?? "connected")")

        let silent = try SilentListener()
        defer { silent.close() }
        let started = ContinuousClock.now
        let hung = try await Self.attempt("rediss://127.0.0.1:\(silent.port)", RedisTLSSettings(), connectTimeout: .milliseconds(500))
        #expect(hung?.contains("TLS handshake did not complete within 500 ms") == true, "\(hung ?? "connected")")
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test func aClientCertificateIsPresentedWhenRedisRequiresOne() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        let redis = try await PrivateTLSRedis(certificates: certificates, requireClientCertificates: true)
        defer { redis.stop() }
        let settings = RedisTLSSettings(caCertificateFile: certificates.caCertificate,
                                        certificateFile: certificates.clientCertificate, keyFile: certificates.clientKey)
        #expect(try await Self.attempt(redis.url, settings) == nil)
    }

    /// Seeded with one node's `rediss://` URL, the client finds the other two in the slot map and
    /// reaches them over TLS as well: keys of every node's slots are written and read back.
    @Test func aTLSClusterIsRoutedOverTLSToEveryNode() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        let cluster = try await PrivateTLSCluster(certificates: certificates)
        defer { cluster.remove() }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let configuration = try RedisClusterConfiguration(
            seedURLs: [cluster.seedURL], tls: RedisTLSSettings(caCertificateFile: certificates.caCertificate))
        let client = RedisClient(cluster: configuration, group: group)
        var failure: String?
        do {
            try await client.connectAll()
            for id in 1...30 {
                let set = try await client.send(["SET", "user:\(id)", "v\(id)"], on: group.next()).get()
                if case .simpleString = set {} else { failure = "SET user:\(id): \(set)" }
            }
            for id in 1...30 {
                let value = try await client.send(["GET", "user:\(id)"], on: group.next()).get()
                guard case .bulkString(let bytes) = value, String(buffer: bytes) == "v\(id)" else {
                    failure = "GET user:\(id): \(value)"
                    break
                }
            }
            let primaries = try await client.primaries(on: group.next()).get()
            #expect(Set(primaries.map(\.port)) == Set(cluster.ports), "every primary found: \(primaries)")
        } catch {
            failure = "\(error)"
        }
        await client.shutdown()
        try await group.shutdownGracefully()
        #expect(failure == nil, "\(failure ?? "")")
        // Each node holds some of the keys: the client wrote to all three, over TLS.
        for port in cluster.ports {
            let count = Int(try await cluster.cli(port, ["DBSIZE"]).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
            #expect(count > 0, "node \(port) got none of the 30 keys")
        }
    }

    /// The `redis.tls_*` keys load from the environment (as from the file); a missing file stops
    /// the load naming its key, for `redis.url` and for `redis.cluster_nodes`.
    @Test func theRedisTLSKeysLoadAndAMissingFileIsNamed() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        let loaded = try await ConfigurationLoader.load(file: nil, environment: [
            "QUICKSELL_REDIS_URL": "rediss://127.0.0.1:6390",
            "QUICKSELL_REDIS_TLS_CA_CERT_FILE": certificates.caCertificate,
            "QUICKSELL_REDIS_TLS_CERT_FILE": certificates.clientCertificate,
            "QUICKSELL_REDIS_TLS_KEY_FILE": certificates.clientKey,
            "QUICKSELL_REDIS_TLS_SERVER_NAME": "redis.test",
            "QUICKSELL_REDIS_TLS_VERIFY_SERVER_NAME": "no",
        ])
        #expect(loaded.redisTLS == RedisTLSSettings(caCertificateFile: certificates.caCertificate,
                                                    certificateFile: certificates.clientCertificate, keyFile: certificates.clientKey,
                                                    serverName: "redis.test", verifyServerName: false))
        #expect(loaded.maskedDescription.contains("redis.tls_server_name: redis.test"))
        for urlKey in ["QUICKSELL_REDIS_URL", "QUICKSELL_REDIS_CLUSTER_NODES"] {
            await #expect {
                _ = try await ConfigurationLoader.load(file: nil, environment: [
                    urlKey: "rediss://127.0.0.1:7000", "QUICKSELL_REDIS_TLS_CA_CERT_FILE": "/nonexistent/ca.pem"])
            } throws: { error in
                "\(error)".contains("'redis.tls_ca_cert_file'") && "\(error)".contains("/nonexistent/ca.pem")
            }
        }
        // A plaintext URL does not read the files.
        _ = try await ConfigurationLoader.load(file: nil, environment: ["QUICKSELL_REDIS_TLS_CA_CERT_FILE": "/nonexistent/ca.pem"])
    }

    /// Connects a `RedisClient` and sends PING: nil when PONG came back, else the error's text.
    private static func attempt(_ url: String, _ tls: RedisTLSSettings, connectTimeout: TimeAmount = .seconds(3)) async throws -> String? {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var configuration = try RedisClientConfiguration(url: url, tls: tls)
        configuration.connectTimeout = connectTimeout
        let client = RedisClient(configuration: configuration, group: group)
        var problem: String?
        do {
            try await client.connectAll()
            let reply = try await client.send(["PING"], on: group.next()).get()
            if case .simpleString(let text) = reply, String(buffer: text) == "PONG" {
                problem = nil
            } else {
                problem = "unexpected reply \(reply)"
            }
        } catch {
            problem = "\(error)"
        }
        await client.shutdown()
        try await group.shutdownGracefully()
        return problem
    }
}

/// A loopback socket that listens and never accepts: the kernel completes TCP connects to it,
/// and nothing ever answers.
private final class SilentListener {
    let port: Int
    private let descriptor: Int32

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestFailure("socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(descriptor, address, length) == 0 && listen(descriptor, 8) == 0 && getsockname(descriptor, address, &length) == 0
            }
        }
        guard bound else {
            Glibc.close(descriptor)
            throw TestFailure("cannot listen on a loopback port")
        }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { Glibc.close(descriptor) }
}
