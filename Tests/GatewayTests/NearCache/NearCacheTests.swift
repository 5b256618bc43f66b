import Foundation
import Gateway
import Invalidation
import Postgres
import Synchronization
import Testing
import TestSupport

/// The near cache against real Redis and PostgreSQL: hot values answered from memory, and
/// every way a key is invalidated (a PostgreSQL write, an operator's key, family and full
/// flush) removing it, so that nothing read before is served after.
@Suite(.timeLimit(.minutes(2))) struct NearCacheTests {
    @Test func aHotValueIsAnsweredFromMemoryUntilItsRowIsWritten() async throws {
        let harness = try await GatewayHarness(label: "near_write", setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        try await harness.waitForListener()
        let client = try harness.client()
        // The listener's first flush (a new slot) may still be under way: while it runs, reads keep
        // nothing in memory. Once it ends, the second read from Redis is kept.
        let kept = try await Self.eventually {
            #expect(try client.command("GET", "user:1").string?.contains("alice") == true)
            return try Self.nearCounters(client)["near_cache_hits"] ?? 0 >= 1
        }
        #expect(kept)
        let before = try Self.nearCounters(client)
        #expect(before["near_cache_hits"] ?? 0 >= 1, "\(before)")
        #expect(before["near_cache_entries"] == 1)

        // The value in Redis is replaced behind the gateway's back: a hit from memory still says alice.
        _ = try harness.directRedis().command("SET", "user:1", "{\"username\":\"planted\"}")
        #expect(try client.command("GET", "user:1").string?.contains("alice") == true)

        try harness.database.connect().execute("UPDATE users SET username = 'alicia' WHERE id = 1")
        let fresh = try await Self.eventually { try client.command("GET", "user:1").string?.contains("alicia") == true }
        #expect(fresh, "the write's invalidation reached the near cache")
        // From then on every read is fresh, from Redis or from memory.
        for _ in 0..<20 { #expect(try client.command("GET", "user:1").string?.contains("alicia") == true) }
        let after = try Self.nearCounters(client)
        #expect(after["near_cache_hits"] ?? 0 > before["near_cache_hits"] ?? 0)
    }

    @Test func operatorFlushesOfAKeyAFamilyAndEverythingEmptyIt() async throws {
        // Invalidation off: only the operator's flushes can bring the new rows in.
        let harness = try await GatewayHarness(
            label: "near_flush", invalidation: InvalidationSettings(enabled: false), setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        let client = try harness.client()
        let database = try harness.database.connect()
        func warm(_ key: String) throws { for _ in 0..<3 { _ = try client.command("GET", key) } }

        try warm("user:1")
        try database.execute("UPDATE users SET username = 'alicia' WHERE id = 1")
        #expect(try client.command("GET", "user:1").string?.contains("alice\"") == true)
        #expect(try client.command("DEL", "user:1") == .integer(1))
        #expect(try client.command("GET", "user:1").string?.contains("alicia") == true)

        try warm("user:2")
        try database.execute("UPDATE users SET username = 'robert' WHERE id = 2")
        _ = try client.command("QUICKSELL", "FLUSHFAMILY", "user")
        #expect(try client.command("GET", "user:2").string?.contains("robert") == true)

        try warm("user:5")
        try database.execute("UPDATE users SET username = 'erina' WHERE id = 5")
        _ = try client.command("QUICKSELL", "FLUSHALL")
        #expect(try client.command("GET", "user:5").string?.contains("erina") == true)
        #expect(try Self.nearCounters(client)["near_cache_hits"] ?? 0 >= 3)
    }

    @Test func hotKeysReadWhileTheyAreWrittenNeverGoBack() async throws {
        let rows = 8
        let harness = try await GatewayHarness(label: "near_hot") { connection in
            try connection.execute("""
                INSERT INTO users (id, username, email, password_hash) VALUES (1, 'hot', 'hot@example.com', 'x');
                INSERT INTO listings (id, user_id, title, description, category, condition, price, view_count)
                SELECT g, 1, 't', 'd', 'c', 'new', 1, 0 FROM generate_series(1, \(rows)) g;
                """)
        }
        defer { Task { await harness.stop() } }
        try await harness.waitForListener()
        let deadline = Date().addingTimeInterval(8)
        let regressions = Mutex<[String]>([])
        let reads = Atomic<Int>(0)
        let database = harness.database
        let writer = BackgroundWorkers(count: 1) { _ in
            let connection = try database.connect()
            var written = 0
            while Date() < deadline && written < 2_000 {
                try connection.execute("UPDATE listings SET view_count = view_count + 1 WHERE id = \(written % rows + 1)")
                written += 1
                usleep(5_000)
            }
        }
        let readers = BackgroundWorkers(count: 3) { worker in
            let client = try harness.client()
            var lastSeen = [Int: Int]()
            var id = worker
            while Date() < deadline && reads.load(ordering: .relaxed) < 1_000_000 {
                id = id % rows + 1
                let text = try client.command("GET", "listing:\(id)").string ?? ""
                reads.add(1, ordering: .relaxed)
                guard let count = InvalidationRaceTests.viewCount(text) else { continue }
                if let previous = lastSeen[id], count < previous {
                    regressions.withLock { $0.append("listing:\(id) went from \(previous) back to \(count)") }
                }
                lastSeen[id] = count
            }
        }
        try writer.join()
        try readers.join()
        let client = try harness.client()
        let stale = try await Self.eventuallyFresh(rows: rows, client: client, connection: database.connect())
        let counters = try Self.nearCounters(client)
        print("near cache hot keys: reads=\(reads.load(ordering: .relaxed)) near_hits=\(counters["near_cache_hits"] ?? 0) "
            + "offers_after_invalidation=\(counters["near_cache_offers_after_invalidation"] ?? 0) stale=\(stale)")
        #expect(regressions.withLock { $0 }.isEmpty, "\(regressions.withLock { $0.prefix(5) })")
        #expect(stale.isEmpty, "still stale 5 s after the last write: \(stale)")
        #expect(counters["near_cache_hits"] ?? 0 > 0)
    }

    /// The listings whose cached view count differs from PostgreSQL's after up to 5 s.
    private static func eventuallyFresh(rows: Int, client: RedisTestClient, connection: PostgresConnection) async throws -> [Int] {
        var stale: [Int] = []
        let deadline = Date().addingTimeInterval(5)
        repeat {
            stale = []
            for id in 1...rows {
                let truth = try connection.query("SELECT view_count FROM listings WHERE id = \(id)").rows.first?.first ?? nil
                let cached = InvalidationRaceTests.viewCount(try client.command("GET", "listing:\(id)").string ?? "")
                if cached.map(String.init) != truth { stale.append(id) }
            }
            if stale.isEmpty { return [] }
            try await Task.sleep(for: .milliseconds(100))
        } while Date() < deadline
        return stale
    }

    static func nearCounters(_ client: RedisTestClient) throws -> [String: Int] {
        var counters: [String: Int] = [:]
        for line in (try client.command("INFO", "near_cache").string ?? "").split(separator: "\r\n") {
            let parts = line.split(separator: ":")
            if parts.count == 2, let value = Int(parts[1]) { counters[String(parts[0])] = value }
        }
        return counters
    }

    private static func eventually(_ condition: () throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return false
    }
}
