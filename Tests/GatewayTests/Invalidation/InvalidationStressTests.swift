import Foundation
import Gateway
import Postgres
import Synchronization
import Testing
import TestSupport

/// Readers and writers on the same 1,000 rows for 30 s (bounded in time and count).
/// Afterwards a verifier compares every key with PostgreSQL: zero stale values allowed.
@Suite(.timeLimit(.minutes(2))) struct InvalidationStressTests {
    @Test func thirtySecondsOfReadsAndWritesLeaveNothingStale() async throws {
        let rows = 1_000
        let harness = try await GatewayHarness(label: "stress") { connection in
            try connection.execute("""
                INSERT INTO users (id, username, email, password_hash) VALUES (1, 'stress', 'stress@example.com', 'x');
                INSERT INTO listings (id, user_id, title, description, category, condition, price, view_count)
                SELECT g, 1, 't', 'd', 'c', 'new', 1, 0 FROM generate_series(1, \(rows)) g;
                """)
        }
        defer { Task { await harness.stop() } }
        try await harness.waitForListener()

        let duration: TimeInterval = 30
        let deadline = Date().addingTimeInterval(duration)
        let writes = Atomic<Int>(0)
        let reads = Atomic<Int>(0)
        let regressions = Mutex<[String]>([])
        let database = harness.database

        // Two writers at 250 writes/s each (500/s in all, the rate the performance targets use).
        let writers = BackgroundWorkers(count: 2) { worker in
            let connection = try database.connect()
            var random = SeededRandom(seed: UInt64(worker) + 1)
            let start = Date()
            var done = 0
            while Date() < deadline && done < 20_000 {
                let id = Int(random.next() % UInt64(rows)) + 1
                try connection.execute("UPDATE listings SET view_count = view_count + 1 WHERE id = \(id)")
                writes.add(1, ordering: .relaxed)
                done += 1
                let due = start.addingTimeInterval(Double(done) / 250)
                let wait = due.timeIntervalSinceNow
                if wait > 0 { usleep(UInt32(wait * 1_000_000)) }
            }
        }
        let readers = BackgroundWorkers(count: 4) { worker in
            let client = try harness.client()
            var random = SeededRandom(seed: UInt64(worker) + 100)
            var lastSeen = [Int: Int]()
            while Date() < deadline && reads.load(ordering: .relaxed) < 2_000_000 {
                let id = Int(random.next() % UInt64(rows)) + 1
                let text = try client.command("GET", "listing:\(id)").string ?? ""
                reads.add(1, ordering: .relaxed)
                guard let count = InvalidationRaceTests.viewCount(text) else { continue }
                // Counts only grow: a read older than one this reader already saw is stale.
                if let previous = lastSeen[id], count < previous {
                    regressions.withLock { $0.append("listing:\(id) went from \(previous) back to \(count)") }
                }
                lastSeen[id] = count
            }
        }
        try writers.join()
        try readers.join()

        // The verifier: once the last invalidations are through, every key equals PostgreSQL.
        let client = try harness.client()
        var stale: [String] = []
        let settled = try await eventually(seconds: TimeBounds.invalidation) {
            stale = try Self.staleKeys(client: client, connection: database.connect())
            return stale.isEmpty
        }
        let info = try harness.invalidationInfo()
        let summary = "writes=\(writes.load(ordering: .relaxed)) reads=\(reads.load(ordering: .relaxed)) "
            + "lag_p50_usec=\(info["invalidation_lag_p50_usec"] ?? "?") lag_p99_usec=\(info["invalidation_lag_p99_usec"] ?? "?") "
            + "lag_samples=\(info["invalidation_lag_samples"] ?? "?")"
        print("stress: \(summary)")
        #expect(settled, "stale after the run: \(stale.prefix(10)) (\(summary))")
        let found = regressions.withLock { $0 }
        #expect(found.isEmpty, "stale reads during the run: \(found.prefix(5))")
        #expect(writes.load(ordering: .relaxed) > 1_000, "the writers barely ran: \(summary)")
        #expect(info["invalidation_status"] == "ok", "\(info["listener_last_error"] ?? "")")
    }

    private static func staleKeys(client: RedisTestClient, connection: PostgresConnection) throws -> [String] {
        let rows = try connection.query("SELECT id, view_count FROM listings ORDER BY id")
        var keys = rows.rows.compactMap { $0[0] }.map { "listing:\($0)" }
        var stale: [String] = []
        while !keys.isEmpty {
            let chunk = Array(keys.prefix(200))
            keys.removeFirst(chunk.count)
            guard case .array(let values) = try client.command(["MGET"] + chunk) else { return ["MGET failed"] }
            for (key, value) in zip(chunk, values) {
                guard let id = Int(key.dropFirst("listing:".count)),
                      let expected = rows.rows[id - 1][1].flatMap({ Int($0) }) else { continue }
                if InvalidationRaceTests.viewCount(value.string ?? "") != expected { stale.append(key) }
            }
        }
        return stale
    }
}
