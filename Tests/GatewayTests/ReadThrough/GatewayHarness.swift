import CacheModel
import Foundation
import Gateway
import Invalidation
import Logging
import Postgres
import ReadThrough
import Testing
import TestSupport

/// A real gateway for one test: its own PostgreSQL database (migrated, with the
/// fixture rows the test writes), its own Redis database index, a server on a free
/// port. Call `stop()` at the end.
///
/// With `QUICKSELL_TEST_REDIS_MODE=cluster` (the second pass of `make test`) the gateway runs on
/// the local Redis Cluster instead; the cluster has only database 0, so each harness starts by
/// emptying every primary (the suites run serially).
final class GatewayHarness: @unchecked Sendable {
    let database: TestDatabase
    let gateway: Gateway
    let redisDatabase: Int
    let configuration: GatewayConfiguration

    init(label: String, cache: CacheSettings = CacheSettings(), hooks: FillHooks = FillHooks(),
         invalidation: InvalidationSettings = InvalidationSettings(leaderboardIntervalSeconds: 0),
         metricsPort: Int? = nil, redisURL: String? = nil, postgresURL: String? = nil, postgres: PostgresKind = .testServer,
         users: UserDirectory = UserDirectory(), redisDatabase: Int? = nil, logger: Logger? = nil,
         setUp: (PostgresConnection) throws -> Void = { _ in },
         configure: (inout GatewayConfiguration) -> Void = { _ in }) async throws {
        database = try TestDatabase(label: label, adminURL: postgres == .defaultSettings ? try DefaultPostgres.shared().url : nil)
        do {
            try setUp(try database.connect())
            let applicationURL = postgres == .defaultSettings ? try DefaultPostgres.applicationURL(for: database) : database.url
            let cluster = redisURL == nil && TestEnvironment.clusterMode
            self.redisDatabase = cluster ? 0 : redisDatabase ?? RedisDatabases.next()
            var configuration = GatewayConfiguration()
            configuration.server.port = 0
            configuration.server.eventLoopThreads = 2
            configuration.server.users = users
            let baseURL = try redisURL ?? TestEnvironment.redisURL()
            configuration.redisURL = baseURL + "/\(self.redisDatabase)"
            configuration.metricsPort = metricsPort
            configuration.postgres = PostgresPool.Configuration(url: postgresURL ?? applicationURL, size: 4)
            configuration.cache = cache
            configuration.invalidation = invalidation
            configuration.invalidation.replicationSlot = TestSlots.nextName()
            if configuration.invalidation.source == .auto,
               let source = TestEnvironment.invalidationSource.flatMap(InvalidationSource.init(rawValue:)) {
                configuration.invalidation.source = source
            }
            if cluster {
                configuration.redisClusterNodes = try TestEnvironment.clusterURLs()
                try TestCluster.flushAllPrimaries()
            }
            configure(&configuration)
            self.configuration = configuration
            if !cluster && !configuration.redisClusterNodes.isEmpty {
                try TestCluster.flushAllPrimaries()
            }
            // A rediss:// Redis is a test's private one, empty at start (and out of the plaintext client's reach).
            if configuration.redisClusterNodes.isEmpty && !configuration.redisURL.hasPrefix("rediss://") {
                let redis = try Self.directRedis(database: self.redisDatabase, url: redisURL)
                _ = try redis.command("FLUSHDB")
            }
            var quiet = Logger(label: "test.gateway")
            quiet.logLevel = .warning
            gateway = try await Gateway.start(
                configuration: configuration, logger: logger ?? quiet, hooks: hooks)
        } catch {
            database.drop()
            throw error
        }
    }

    var port: Int { gateway.port }

    /// A client of the gateway.
    func client() throws -> RedisTestClient {
        try RedisTestClient(port: port)
    }

    /// A client of the Redis behind the gateway, on the gateway's database index.
    func directRedis() throws -> RedisTestClient {
        if !configuration.redisClusterNodes.isEmpty { return try TestCluster.client() }
        return try Self.directRedis(database: redisDatabase, url: configuration.redisURL.components(separatedBy: "/").prefix(3)
            .joined(separator: "/"))
    }

    static func directRedis(database: Int, url: String? = nil) throws -> RedisTestClient {
        let url = try url ?? TestEnvironment.redisURL()
        let port = Int(url.split(separator: ":").last ?? "6379") ?? 6379
        let client = try RedisTestClient(port: port)
        _ = try client.command("SELECT", String(database))
        return client
    }

    /// The gateway's `INFO families` line of `family` as a dictionary.
    func familyCounters(_ family: KeyFamily) throws -> [String: Int] {
        guard let text = try client().command("INFO", "families").string else { return [:] }
        let prefix = "family_\(family.infoName):"
        guard let line = text.split(separator: "\r\n").first(where: { $0.hasPrefix(prefix) }) else { return [:] }
        var counters: [String: Int] = [:]
        for field in line.dropFirst(prefix.count).split(separator: ",") {
            let parts = field.split(separator: "=")
            if parts.count == 2, let value = Int(parts[1]) { counters[String(parts[0])] = value }
        }
        return counters
    }

    /// The gateway's `INFO invalidation` fields.
    func invalidationInfo(port: Int? = nil) throws -> [String: String] {
        let client = try RedisTestClient(port: port ?? self.port)
        guard let text = try client.command("INFO", "invalidation").string else { return [:] }
        var fields: [String: String] = [:]
        for line in text.split(separator: "\r\n") where !line.hasPrefix("#") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return fields
    }

    /// Waits until the listener is connected (it starts in the background).
    func waitForListener(port: Int? = nil, timeoutSeconds: Double = 10) async throws {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            if try invalidationInfo(port: port)["listener_connected"] == "1" { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("the invalidation listener did not connect within \(timeoutSeconds) s")
    }

    func stop() async {
        await gateway.shutdown()
        // The cluster's only database is shared: leave nothing behind for whoever uses it next.
        if !configuration.redisClusterNodes.isEmpty { try? TestCluster.flushAllPrimaries() }
        database.drop()
    }
}

/// Hands each harness its own Redis database index (the test Redis runs with 64).
enum RedisDatabases {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var counter = 0

    static func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        counter += 1
        return 1 + (counter - 1) % 63
    }
}
