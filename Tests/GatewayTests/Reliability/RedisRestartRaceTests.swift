import CacheModel
import Foundation
import Gateway
import ReadThrough
import Synchronization
import Testing
import TestSupport

/// The stale-set race across a Redis restart: the restarted Redis has lost its record of
/// recent writers, so a fill that read before a write and finishes after the restart must
/// not store what it read.
@Suite(.timeLimit(.minutes(1))) struct RedisRestartRaceTests {
    @Test func aFillInFlightAcrossARedisRestartDoesNotStoreItsOldValue() async throws {
        let redis = try PrivateRedis()
        defer { redis.stop() }
        let gate = Gate()
        let held = Atomic<Int>(0)
        let harness = try await GatewayHarness(
            label: "restart_race",
            hooks: FillHooks(afterQuery: { keys in
                if keys.contains(CacheKey(family: .listing, id: 10)), held.add(1, ordering: .relaxed).oldValue == 0 {
                    gate.waitUntilOpen(timeoutSeconds: 15)
                }
            }),
            redisURL: redis.url, setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        try await harness.waitForListener()

        // A fill of listing:10 reads the old title and is held there.
        let reader = try harness.client()
        reader.append(["GET", "listing:10"])
        reader.flush()
        #expect(try await eventually(seconds: 5) { held.load(ordering: .relaxed) == 1 }, "the fill never reached the hook")

        // The write is committed and invalidated (its writer is recorded in this Redis)...
        try harness.database.connect().execute("UPDATE listings SET title = 'After the restart' WHERE id = 10")
        #expect(try await eventually(seconds: TimeBounds.recovery) {
            (try harness.invalidationInfo()["invalidations_listing"] ?? "").contains("applied=1")
        }, "the invalidation was not applied")

        // ...then Redis restarts empty, losing that record, and the gateway notices.
        redis.stop()
        try redis.start()
        #expect(try await eventually(seconds: 5) {
            (Int(try harness.invalidationInfo()["redis_restarts"] ?? "") ?? 0) >= 1
        }, "the gateway did not notice the Redis restart")

        gate.open()
        let heldReply = try reader.readReply()
        #expect(heldReply.string?.contains("\"title\": \"Lamp\"") == true)
        try await Task.sleep(for: .milliseconds(300))  // time for a store to land, if one were sent
        let direct = try harness.directRedis().command("GET", "listing:10")
        #expect(direct.string?.contains("\"title\": \"Lamp\"") != true, "the old value was stored after the restart")
        #expect(try await eventually(seconds: TimeBounds.recovery) {
            try harness.client().command("GET", "listing:10").string?.contains("After the restart") == true
        })
    }
}
