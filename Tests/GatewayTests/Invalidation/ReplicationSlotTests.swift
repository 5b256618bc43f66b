import Foundation
import Testing
import TestSupport

/// The listener's replication slot across gateway restarts and misconfigurations, with the
/// built gateway executable (each test owns its database, Redis database index and slot).
@Suite(.serialized) struct ReplicationSlotTests {
    private static let seed = """
        INSERT INTO users (id, username, email, password_hash) VALUES (1, 'slot', 'slot@example.com', 'x');
        INSERT INTO listings (id, user_id, title, description, category, condition, price)
        SELECT g, 1, 'before', 'd', 'c', 'new', 1 FROM generate_series(1, 5) g;
        """

    private static func invalidationInfo(port: Int) throws -> [String: String] {
        guard let text = try RedisTestClient(port: port).command("INFO", "invalidation").string else { return [:] }
        var fields: [String: String] = [:]
        for line in text.split(separator: "\r\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        return fields
    }

    private static func listenerConnected(port: Int) async throws -> Bool {
        try await eventually(seconds: 10) { try invalidationInfo(port: port)["listener_connected"] == "1" }
    }

    @Test func aRestartedGatewayReplaysTheWritesMadeWhileItWasStopped() async throws {
        let database = try TestDatabase(label: "slot_replay")
        defer { database.drop() }
        try database.connect().execute(Self.seed)
        let redisDatabase = RedisDatabases.next()
        let redis = try GatewayHarness.directRedis(database: redisDatabase)
        _ = try redis.command("FLUSHDB")
        let slot = TestSlots.nextName()
        let arguments = ["--redis-url", try TestEnvironment.redisURL() + "/\(redisDatabase)",
                         "--postgres-url", database.url, "--replication-slot", slot]

        let first = try await GatewayProcess(arguments: arguments)
        #expect(try await Self.listenerConnected(port: first.port))
        for id in 1...3 { #expect(try RedisTestClient(port: first.port).command("GET", "listing:\(id)").string?.contains("before") == true) }
        _ = await first.stop()

        // Nobody is listening: the writes stay in the slot, and Redis keeps the old values.
        try database.connect().execute("UPDATE listings SET title = 'after' WHERE id IN (1, 2)")
        #expect(try redis.command("EXISTS", "listing:1", "listing:2", "listing:3") == .integer(3))

        // The next gateway on the same slot replays them before it serves.
        let second = try await GatewayProcess(arguments: arguments)
        defer { Task { _ = await second.stop() } }
        #expect(try await Self.listenerConnected(port: second.port))
        #expect(try redis.command("EXISTS", "listing:1", "listing:2") == .integer(0), "the missed writes were not replayed")
        #expect(try redis.command("EXISTS", "listing:3") == .integer(1), "an unwritten listing was dropped too")
        let client = try RedisTestClient(port: second.port)
        #expect(try client.command("GET", "listing:1").string?.contains("\"title\": \"after\"") == true)
        let info = try Self.invalidationInfo(port: second.port)
        #expect(info["replication_slot"] == slot)
        #expect(info["listener_caught_up"] == "1", "\(info)")
        #expect(Int(info["recoveries"] ?? "") ?? 0 >= 1 && Int(info["recovered_keys"] ?? "") ?? 0 >= 4, "\(info)")
        #expect(info["recovery_flushes"] == "0", "a resumed slot must not flush: \(info)")
        // Replayed writes say how long the gateway was away, not how fast it invalidates.
        #expect(info["invalidation_lag_samples"] == "0", "\(info)")
        // The position it confirmed is the slot's in PostgreSQL.
        let confirmedInPostgres = try await eventually(seconds: TimeBounds.recovery) {
            let text = try database.connect().query(
                "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1", [slot]).scalar
            let reported = try Self.invalidationInfo(port: second.port)["replication_confirmed_lsn"]
            return text != nil && text == reported
        }
        #expect(confirmedInPostgres, "\((try? Self.invalidationInfo(port: second.port)) ?? [:])")
    }

    @Test func twoGatewaysGivenOneSlotAreToldSoAndTheSecondTakesOverWhenTheFirstStops() async throws {
        let database = try TestDatabase(label: "slot_shared")
        defer { database.drop() }
        try database.connect().execute(Self.seed)
        let redisDatabase = RedisDatabases.next()
        let arguments = ["--redis-url", try TestEnvironment.redisURL() + "/\(redisDatabase)",
                         "--postgres-url", database.url, "--replication-slot", TestSlots.nextName()]
        let first = try await GatewayProcess(arguments: arguments)
        #expect(try await Self.listenerConnected(port: first.port))
        let second = try await GatewayProcess(arguments: arguments)
        defer { Task { _ = await second.stop() } }
        let refused = try await eventually(seconds: 5) {
            try Self.invalidationInfo(port: second.port)["listener_last_error"]?.contains("is streaming to another connection") == true
        }
        let info = try Self.invalidationInfo(port: second.port)
        #expect(refused, "\(info)")
        #expect(info["invalidation_status"] == "degraded")

        _ = await first.stop()
        let tookOver = try await Self.listenerConnected(port: second.port)
        #expect(tookOver, "\((try? Self.invalidationInfo(port: second.port)) ?? [:])")
        try database.connect().execute("UPDATE listings SET title = 'after' WHERE id = 4")
        let client = try RedisTestClient(port: second.port)
        #expect(try await eventually(seconds: 5) {
            try client.command("GET", "listing:4").string?.contains("\"title\": \"after\"") == true
        })
    }

    @Test func aGatewayToldToStreamFromAServerWithoutLogicalDecodingRefusesToStartAndNamesTheSetting() async throws {
        let server = try PrivatePostgres(walLevel: "replica")
        defer { server.remove() }
        let redisDatabase = RedisDatabases.next()
        do {
            let gateway = try await GatewayProcess(arguments: [
                "--redis-url", try TestEnvironment.redisURL() + "/\(redisDatabase)", "--postgres-url", server.url,
                "--invalidation-source", "wal",
            ])
            _ = await gateway.stop()
            Issue.record("the gateway started on a server it cannot stream from, so nothing would be invalidated")
        } catch {
            let text = "\(error)"
            #expect(text.contains("wal_level = replica") && text.contains("wal_level = logical")
                    && text.contains("127.0.0.1:\(server.port)"), "\(text)")
        }
    }
}
