import CacheModel
import Foundation
import Gateway
import Postgres
import ReadThrough
import Synchronization
import Testing
import TestSupport

/// The hard cases: a fill racing a write, bulk writes, a lost listener, two gateways.
@Suite struct InvalidationRaceTests {
    @Test func aFillThatReadBeforeAWriteNeverStoresItsOldValue() async throws {
        // Hold the first fill of listing:10 after its query until the write's
        // invalidation has been processed.
        let gate = Gate()
        let held = Atomic<Int>(0)
        let harness = try await GatewayHarness(
            label: "race_stale_set",
            hooks: FillHooks(afterQuery: { keys in
                if keys.contains(CacheKey(family: .listing, id: 10)), held.add(1, ordering: .relaxed).oldValue == 0 {
                    gate.waitUntilOpen(timeoutSeconds: 10)
                }
            }),
            setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        try await harness.waitForListener()

        let reader = try harness.client()
        reader.append(["GET", "listing:10"])
        reader.flush()
        #expect(try await eventually(seconds: 5) { held.load(ordering: .relaxed) == 1 }, "the fill never reached the hook")

        let appliedBefore = try appliedListingInvalidations(harness)
        try harness.database.connect().execute("UPDATE listings SET title = 'After the write' WHERE id = 10")
        #expect(try await eventually(seconds: 2) { try appliedListingInvalidations(harness) > appliedBefore },
                "the invalidation was not processed")
        gate.open()

        // The held request may answer with what it read; the next read must be new.
        let heldReply = try reader.readReply()
        #expect(heldReply.string?.contains("\"title\": \"Lamp\"") == true)
        let next = try harness.client().command("GET", "listing:10")
        #expect(next.string?.contains("After the write") == true, "stale value stored: \(next)")
        let direct = try harness.directRedis().command("GET", "listing:10")
        #expect(direct.string?.contains("\"title\": \"Lamp\"") != true, "Redis kept the stale value: \(direct)")
    }

    @Test func aBulkUpdateOfOneHundredThousandListingsInvalidatesEveryCachedOne() async throws {
        let harness = try await GatewayHarness(label: "race_bulk") { connection in
            try connection.execute("""
                INSERT INTO users (id, username, email, password_hash) VALUES (1, 'bulk', 'bulk@example.com', 'x');
                INSERT INTO listings (id, user_id, title, description, category, condition, price)
                SELECT g, 1, 'before', 'd', 'c', 'new', 1 FROM generate_series(1, 100000) g;
                """)
        }
        defer { Task { await harness.stop() } }
        try await harness.waitForListener()
        let client = try harness.client()
        // Cache 2,000 listings spread over the range (and their marketplace copies).
        let ids = stride(from: 1, through: 100_000, by: 50).map { $0 }
        for chunk in stride(from: 0, to: ids.count, by: 500) {
            let keys = ids[chunk..<min(chunk + 500, ids.count)].map { "listing:\($0)" }
            _ = try client.command(["MGET"] + keys)
        }
        #expect(try await eventually(seconds: 2) {
            try harness.directRedis().command("EXISTS", "listing:1", "listing:99951") == .integer(2)
        })

        try harness.database.connect().execute("UPDATE listings SET title = 'after'")

        let allFresh = try await eventually(seconds: 30) {
            try harness.directRedis().command(["EXISTS"] + ids.map { "listing:\($0)" }) == .integer(0)
        }
        #expect(allFresh, "cached listings survived the bulk update")
        for id in [1, 50_001, 99_951] {
            #expect(try client.command("GET", "listing:\(id)").string?.contains("\"title\": \"after\"") == true)
        }
        let info = try harness.invalidationInfo()
        #expect(info["invalidation_status"] == "ok", "\(info["listener_last_error"] ?? "")")
        if info["invalidation_source"] == "wal" {
            // One message per updated row (row-level triggers, migration 008), applied in batches.
            #expect(Int(info["invalidation_messages_received"] ?? "") == 100_000, "one message per row, got \(info)")
        } else {
            // One notification for the statement: its 200,000 keys do not fit, so it names their families.
            #expect(Int(info["invalidation_messages_received"] ?? "") == 1, "one notification, got \(info)")
            #expect(info["invalidations_listing"]?.hasPrefix("received=1,") == true, "\(info)")
        }
    }

    /// On the test server, and on one with default settings (where `auto` picks notify: the
    /// flush after reconnecting, not a replay, recovers what was sent meanwhile).
    @Test(arguments: PostgresKind.allCases) func killingTheListenerLosesNoInvalidation(postgres: PostgresKind) async throws {
        let harness = try await GatewayHarness(label: "race_kill", postgres: postgres) { connection in
            try connection.execute("""
                INSERT INTO users (id, username, email, password_hash) VALUES (1, 'kill', 'kill@example.com', 'x');
                INSERT INTO listings (id, user_id, title, description, category, condition, price, view_count)
                SELECT g, 1, 't', 'd', 'c', 'new', 1, 0 FROM generate_series(1, 100) g;
                """)
        }
        defer { Task { await harness.stop() } }
        try await harness.waitForListener()

        let stop = Atomic<Bool>(false)
        // Readers keep filling the cache while the listener is gone.
        let readers = BackgroundWorkers(count: 2) { worker in
            let client = try harness.client()
            var id = worker
            while !stop.load(ordering: .relaxed) {
                _ = try client.command("GET", "listing:\(id % 100 + 1)")
                id += 7
            }
        }
        let writer = try harness.database.connect()
        let admin = try harness.database.connect()
        for update in 1...1_000 {
            try writer.execute("UPDATE listings SET view_count = \(update) WHERE id = \(update % 100 + 1)")
            if update == 300 || update == 650 {
                try admin.execute("""
                    SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                    WHERE application_name = 'quicksell-gateway listener' AND datname = current_database()
                    """)
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        stop.store(true, ordering: .relaxed)
        try readers.join()

        #expect(try await eventually(seconds: 10) {
            let info = try harness.invalidationInfo()
            return info["listener_connected"] == "1" && (Int(info["recoveries"] ?? "") ?? 0) >= 1
        }, "the listener did not reconnect and recover: \((try? harness.invalidationInfo()) ?? [:])")
        let info = try harness.invalidationInfo()
        #expect((Int(info["listener_reconnects"] ?? "") ?? 0) >= 1, "\(info)")

        let client = try harness.client()
        let rows = try harness.database.connect().query("SELECT id, view_count FROM listings ORDER BY id")
        var stale: [String] = []
        for row in rows.rows {
            guard let id = row[0], let count = row[1] else { continue }
            let value = try client.command("GET", "listing:\(id)").string ?? ""
            if Self.viewCount(value) != Int(count) { stale.append("listing:\(id) \(Self.viewCount(value) ?? -1) vs \(count)") }
        }
        #expect(stale.isEmpty, "stale after recovery: \(stale.prefix(10))")
    }

    @Test func twoGatewaysOnOneRedisServeNoStaleRead() async throws {
        let harness = try await GatewayHarness(label: "race_two") { connection in
            try connection.execute("""
                INSERT INTO users (id, username, email, password_hash) VALUES (1, 'two', 'two@example.com', 'x');
                INSERT INTO listings (id, user_id, title, description, category, condition, price, view_count)
                SELECT g, 1, 't', 'd', 'c', 'new', 1, 0 FROM generate_series(1, 20) g;
                """)
        }
        defer { Task { await harness.stop() } }
        // The second gateway is a separate process: the built executable.
        let second = try await GatewayProcess(arguments: [
            "--redis-url", harness.configuration.redisURL, "--postgres-url", harness.database.url,
        ])
        // (If the test fails early, GatewayProcess's deinit kills the process.)
        try await harness.waitForListener()
        try await harness.waitForListener(port: second.port)

        // The writer bumps a counter; after each commit both gateways must show it within
        // 1 s, and once a gateway showed it, no read through either may show an older one.
        let committed = Mutex<[Int: Int]>([:])
        let violations = Mutex<[String]>([])
        let stop = Atomic<Bool>(false)
        let readers = BackgroundWorkers(count: 4) { worker in
            let client = try RedisTestClient(port: worker % 2 == 0 ? harness.port : second.port)
            var id = worker
            while !stop.load(ordering: .relaxed) {
                id = id % 20 + 1
                let floor = committed.withLock { $0[id] ?? 0 }
                let text = try client.command("GET", "listing:\(id)").string ?? ""
                if let seen = Self.viewCount(text), seen < floor {
                    violations.withLock { $0.append("listing:\(id) showed \(seen) after \(floor) was visible on both") }
                }
            }
        }
        let writer = try harness.database.connect()
        let gateways = [try harness.client(), try RedisTestClient(port: second.port)]
        for round in 1...60 {
            let id = round % 20 + 1
            try writer.execute("UPDATE listings SET view_count = \(round) WHERE id = \(id)")
            let seen = try await eventually(seconds: 1) {
                try gateways.allSatisfy { Self.viewCount(try $0.command("GET", "listing:\(id)").string ?? "") == round }
            }
            #expect(seen, "round \(round): a gateway still shows an older listing:\(id) after 1 s")
            committed.withLock { $0[id] = round }
        }
        stop.store(true, ordering: .relaxed)
        try readers.join()
        _ = await second.stop()
        let found = violations.withLock { $0 }
        #expect(found.isEmpty, "stale reads: \(found.prefix(5))")
    }

    static func viewCount(_ json: String) -> Int? {
        guard let range = json.range(of: "\"view_count\": ") else { return nil }
        return Int(json[range.upperBound...].prefix { $0.isNumber })
    }

    private func appliedListingInvalidations(_ harness: GatewayHarness) throws -> Int {
        let field = try harness.invalidationInfo()["invalidations_listing"] ?? ""
        guard let applied = field.split(separator: ",").first(where: { $0.hasPrefix("applied=") }) else { return 0 }
        return Int(applied.dropFirst("applied=".count)) ?? 0
    }
}

/// Blocking workers on threads of their own (hiredis calls block), joined at the end.
final class BackgroundWorkers: Sendable {
    private let group = DispatchGroup()
    private let failures = Mutex<[String]>([])

    init(count: Int, _ body: @escaping @Sendable (Int) throws -> Void) {
        for worker in 0..<count {
            group.enter()
            Thread.detachNewThread { [self] in
                do { try body(worker) } catch { record(error) }
                group.leave()
            }
        }
    }

    private func record(_ error: any Error) {
        failures.withLock { $0.append("\(error)") }
    }

    /// Waits for every worker (at most 60 s) and rethrows the first failure.
    func join() throws {
        guard group.wait(timeout: .now() + 60) == .success else {
            throw WorkerError(description: "workers did not finish within 60 s")
        }
        if let first = failures.withLock({ $0.first }) { throw WorkerError(description: first) }
    }

    struct WorkerError: Error, CustomStringConvertible { let description: String }
}
