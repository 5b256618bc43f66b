import CacheModel
import Foundation
import Gateway
import Synchronization
import Testing
import TestSupport

/// A PostgreSQL that stops answering one table: fills of that family fail alone within
/// the statement timeout, other families keep working, and misses beyond
/// `postgres.max_queued` are refused at once instead of piling up.
@Suite(.timeLimit(.minutes(1))) struct SlowBackendTests {
    /// Long enough that "at once" (under half a second, with room for a busy CI machine) and
    /// "after a statement timeout" cannot be confused.
    private static let statementTimeoutMilliseconds = 1000
    /// "At once": well under the 1 s statement timeout it is told from, with room for a busy machine.
    private static let atOnceSeconds = 0.9

    @Test func aBlockedTableFailsOnlyItsFillsAndExtraMissesAreShed() async throws {
        let harness = try await GatewayHarness(
            label: "slow_pg", setUp: ListingRows.setUp(count: 100),
            configure: {
                $0.postgres.statementTimeoutMilliseconds = Self.statementTimeoutMilliseconds
                $0.postgres.maxQueued = 4
                // One query of a family at a time: how many misses get in then does not depend on
                // how the burst's arrivals spread in time (with more, a second query starts 5 ms
                // after the first, and a busy machine spreads the arrivals over several).
                $0.postgres.size = 1
            })
        defer { Task { await harness.stop() } }
        try await harness.waitForListener()
        let client = try harness.client()
        let cached = try client.command("GET", "user:1")

        // Another session holds listings locked: every listing query waits on it.
        let locker = try harness.database.connect()
        try locker.execute("BEGIN; LOCK TABLE listings IN ACCESS EXCLUSIVE MODE")
        let lockedAt = Date()

        var started = Date()
        let timedOut = try client.command("GET", "listing:5")
        let timeoutSeconds = Date().timeIntervalSince(started)
        #expect(timedOut.errorText?.hasPrefix("TRYAGAIN") == true, "\(timedOut)")
        #expect(timeoutSeconds < Double(Self.statementTimeoutMilliseconds) / 1000 + 1,
                "the blocked miss took \(timeoutSeconds) s")
        // Other families are not held up: a hit and a miss of users.
        started = Date()
        #expect(try client.command("GET", "user:1") == cached)
        #expect(try client.command("GET", "user:2") == .null)
        let otherFamilySeconds = Date().timeIntervalSince(started)
        #expect(otherFamilySeconds < Self.atOnceSeconds, "users waited \(otherFamilySeconds) s behind the locked listings")

        // Twenty concurrent misses: one runs, 4 wait, the rest are refused at once.
        let shedBefore = try harness.familyCounters(.listing)["shed"] ?? 0
        let outcomes = Mutex<[(reply: RedisTestClient.Reply, seconds: Double)]>([])
        let burst = BackgroundWorkers(count: 20) { worker in
            let client = try harness.client()
            let started = Date()
            let reply = try client.command("GET", "listing:\(20 + worker)")
            outcomes.withLock { $0.append((reply, Date().timeIntervalSince(started))) }
        }
        try burst.join()
        let all = outcomes.withLock { $0 }
        let shed = all.filter { $0.reply.errorText?.contains("overloaded") == true }
        let slowest = all.map(\.seconds).max() ?? 0
        let shedCounted = (try harness.familyCounters(.listing)["shed"] ?? 0) - shedBefore
        print("slow backend: statement_timeout_s=\(String(format: "%.3f", timeoutSeconds)) "
              + "other_family_s=\(String(format: "%.3f", otherFamilySeconds)) shed=\(shed.count)/20 "
              + "shed_slowest_s=\(String(format: "%.3f", shed.map(\.seconds).max() ?? 0)) "
              + "slowest_s=\(String(format: "%.3f", slowest))")
        #expect(shed.count >= 8, "only \(shed.count) of 20 misses were shed: \(all.map(\.reply).prefix(5))")
        #expect(shed.allSatisfy { $0.seconds < Self.atOnceSeconds }, "shedding was not immediate: \(shed.map(\.seconds))")
        #expect(shedCounted == shed.count, "INFO families counted \(shedCounted) shed misses, clients saw \(shed.count)")
        #expect(all.allSatisfy { $0.reply.errorText?.hasPrefix("TRYAGAIN") == true || $0.reply.string != nil })
        // Two statement timeouts at most (running, then the batch that waited) plus slack.
        #expect(slowest < 2 * Double(Self.statementTimeoutMilliseconds) / 1000 + 1, "a miss waited \(slowest) s")

        // Once the lock goes, listings are served again.
        let remaining = 1.2 - Date().timeIntervalSince(lockedAt)
        if remaining > 0 { try await Task.sleep(for: .milliseconds(Int(remaining * 1000))) }
        try locker.execute("COMMIT")
        #expect(try client.command("GET", "listing:5").string?.contains("\"id\": 5") == true)
    }
}

extension RedisTestClient.Reply {
    /// The message of an error reply.
    var errorText: String? {
        if case .error(let message) = self { return message }
        return nil
    }
}
