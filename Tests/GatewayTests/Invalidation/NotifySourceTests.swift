import Foundation
import Gateway
import Invalidation
import Postgres
import Synchronization
import Testing
import TestSupport

/// The notify source where it matters: a server with default settings and an application
/// role, a statement too big for one notification, and a deployment switching sources
/// under writes.
@Suite struct NotifySourceTests {
    @Test func onAServerWithDefaultSettingsAutoListensForNotificationsAndSaysWhy() async throws {
        let harness = try await GatewayHarness(label: "notify_auto", postgres: .defaultSettings, setUp: Fixtures.load) {
            $0.invalidation.source = .auto
        }
        defer { Task { await harness.stop() } }
        try await harness.waitForListener()
        let info = try harness.invalidationInfo()
        #expect(info["invalidation_source"] == "notify", "\(info)")
        #expect(info["invalidation_source_configured"] == "auto")
        #expect(info["invalidation_source_reason"]?.contains("wal_level = replica") == true, "\(info)")
        #expect(info["listener_caught_up"] == "1" && info["recovery_flushes"] == "1", "\(info)")

        // The listener is an ordinary session of the application role, which may not replicate.
        let admin = try harness.database.connect()
        let role = try admin.query("SELECT rolreplication::text, rolsuper::text FROM pg_roles WHERE rolname = $1",
                                   [DefaultPostgres.role]).rows.first
        #expect(role == ["false", "false"])
        let listener = try admin.execute("""
            SELECT usename::text, backend_type FROM pg_stat_activity
            WHERE application_name = 'quicksell-gateway listener' AND datname = current_database()
            """).rows
        #expect(listener == [[DefaultPostgres.role, "client backend"]])

        let client = try harness.client()
        _ = try client.command("GET", "user:1")
        try admin.execute("UPDATE users SET bio = 'notified' WHERE id = 1")
        #expect(try await eventually(seconds: TimeBounds.invalidation) { try client.command("GET", "user:1").string?.contains("notified") == true })
        #expect(try await eventually(seconds: TimeBounds.invalidation) { (Int(try harness.invalidationInfo()["invalidation_lag_samples"] ?? "") ?? 0) >= 1 })
    }

    @Test(arguments: PostgresKind.allCases)
    func aStatementWhoseKeysDoNotFitOneNotificationFlushesTheirFamilyAndLeavesNothingStale(postgres: PostgresKind) async throws {
        let harness = try await GatewayHarness(
            label: "notify_big", invalidation: InvalidationSettings(source: .notify, leaderboardIntervalSeconds: 0),
            postgres: postgres
        ) { connection in
            try connection.execute("""
                INSERT INTO users (id, username, email, password_hash)
                SELECT g, 'u' || g, 'u' || g || '@example.com', 'x' FROM generate_series(1, 3000) g;
                """)
        }
        defer { Task { await harness.stop() } }
        try await harness.waitForListener()
        let client = try harness.client()
        let keys = stride(from: 1, through: 3000, by: 10).map { "user:\($0)" }
        _ = try client.command(["MGET"] + keys)
        #expect(try await eventually(seconds: TimeBounds.invalidation) { try harness.directRedis().command(["EXISTS"] + keys) == .integer(300) })

        // 3,000 keys of about 10 bytes: far more than one 8,000-byte payload.
        try harness.database.connect().execute("UPDATE users SET bio = 'after'")

        let gone = try await eventually(seconds: 5) { try harness.directRedis().command(["EXISTS"] + keys) == .integer(0) }
        #expect(gone, "cached users survived the bulk update")
        #expect(try client.command("GET", "user:2991").string?.contains("after") == true)
        let info = try harness.invalidationInfo()
        #expect(info["invalidation_messages_received"] == "1", "one notification for the statement: \(info)")
        #expect(info["invalidations_user"] == "received=1,applied=1", "the user family flushed once: \(info)")
    }

    @Test(arguments: [(InvalidationSource.wal, InvalidationSource.notify), (.notify, .wal)])
    func switchingARunningDeploymentToTheOtherSourceUnderWritesLeavesNothingStale(
        from: InvalidationSource, to: InvalidationSource
    ) async throws {
        let first = try await GatewayHarness(
            label: "switch_\(from)", invalidation: InvalidationSettings(source: from, leaderboardIntervalSeconds: 0)
        ) { connection in
            try connection.execute("""
                INSERT INTO users (id, username, email, password_hash) VALUES (1, 'switch', 'switch@example.com', 'x');
                INSERT INTO listings (id, user_id, title, description, category, condition, price, view_count)
                SELECT g, 1, 't', 'd', 'c', 'new', 1, 0 FROM generate_series(1, 200) g;
                """)
        }
        defer { Task { await first.stop() } }
        try await first.waitForListener()
        #expect(try first.invalidationInfo()["invalidation_source"] == "\(from)")

        let port = Atomic<Int>(first.port)
        let stop = Atomic<Bool>(false)
        let writer = BackgroundWorkers(count: 1) { _ in
            let connection = try first.database.connect()
            var update = 0
            while !stop.load(ordering: .relaxed) {
                update += 1
                try connection.execute("UPDATE listings SET view_count = \(update) WHERE id = \(update % 200 + 1)")
            }
        }
        // Readers keep filling the cache through whichever gateway runs (none, for a moment).
        let readers = BackgroundWorkers(count: 2) { worker in
            var id = worker
            while !stop.load(ordering: .relaxed) {
                guard let client = try? RedisTestClient(port: port.load(ordering: .relaxed)) else { continue }
                for _ in 0..<50 {
                    guard (try? client.command("GET", "listing:\(id % 200 + 1)")) != nil else { break }
                    id += 7
                }
            }
        }
        try await Task.sleep(for: .seconds(1))
        // The restart with the other setting: the first gateway stops, the second starts on
        // the same database and Redis, while writes go on.
        await first.gateway.shutdown()
        let second = try await GatewayHarness(
            label: "switch_to_\(to)", invalidation: InvalidationSettings(source: to, leaderboardIntervalSeconds: 0),
            postgresURL: first.database.url, redisDatabase: first.redisDatabase)
        defer { Task { await second.stop() } }
        port.store(second.port, ordering: .relaxed)
        try await Task.sleep(for: .seconds(1.5))
        stop.store(true, ordering: .relaxed)
        try writer.join()
        try readers.join()
        try await second.waitForListener()
        #expect(try second.invalidationInfo()["invalidation_source"] == "\(to)")

        // Every write's invalidation has arrived once the listener has seen a later one.
        try first.database.connect().execute("UPDATE users SET bio = 'last' WHERE id = 1")
        let client = try second.client()
        #expect(try await eventually(seconds: TimeBounds.invalidation) { try client.command("GET", "user:1").string?.contains("last") == true })
        let rows = try first.database.connect().query("SELECT id, view_count FROM listings ORDER BY id")
        var stale: [String] = []
        for row in rows.rows {
            guard let id = row[0], let count = row[1] else { continue }
            let value = try client.command("GET", "listing:\(id)").string ?? ""
            if InvalidationRaceTests.viewCount(value) != Int(count) {
                stale.append("listing:\(id) \(InvalidationRaceTests.viewCount(value) ?? -1) vs \(count)")
            }
        }
        #expect(stale.isEmpty, "stale after switching from \(from) to \(to): \(stale.prefix(10))")
    }

    @Test func gatewaysOnDifferentSourcesShareOneDatabase() async throws {
        let streaming = try await GatewayHarness(
            label: "mixed_wal", invalidation: InvalidationSettings(source: .wal, leaderboardIntervalSeconds: 0),
            setUp: Fixtures.load)
        let listening = try await GatewayHarness(
            label: "mixed_notify", invalidation: InvalidationSettings(source: .notify, leaderboardIntervalSeconds: 0),
            postgresURL: streaming.database.url)
        defer {
            Task {
                await listening.stop()
                await streaming.stop()
            }
        }
        try await streaming.waitForListener()
        try await listening.waitForListener()
        #expect(try streaming.invalidationInfo()["invalidation_source"] == "wal")
        #expect(try listening.invalidationInfo()["invalidation_source"] == "notify")
        let clients = [try streaming.client(), try listening.client()]
        for client in clients { _ = try client.command("GET", "listing:10") }
        try streaming.database.connect().execute("UPDATE listings SET title = 'Both see it' WHERE id = 10")
        for client in clients {
            #expect(try await eventually(seconds: TimeBounds.invalidation) {
                try client.command("GET", "listing:10").string?.contains("Both see it") == true
            })
        }
    }
}
