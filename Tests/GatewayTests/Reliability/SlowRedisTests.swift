import Foundation
import Gateway
import Testing
import TestSupport

/// A Redis call that exceeds `redis.command_timeout_ms` fails that call only: the read is
/// answered from PostgreSQL, and the gateway is back on Redis once it answers again.
@Suite(.timeLimit(.minutes(1))) struct SlowRedisTests {
    @Test func aStalledRedisCostsOneTimeoutAndReadsAreAnsweredFromPostgreSQL() async throws {
        let redis = try PrivateRedis()
        defer { redis.stop() }
        let harness = try await GatewayHarness(
            label: "slow_redis", redisURL: redis.url, setUp: Fixtures.load,
            configure: { $0.redisCommandTimeoutMilliseconds = 300 })
        defer { Task { await harness.stop() } }
        let client = try harness.client()
        #expect(try client.command("GET", "user:1").string?.contains("alice") == true)

        // Stall Redis for 4 s from the side (DEBUG SLEEP blocks it entirely): far longer than
        // the 300 ms timeout plus a fill, even with every core busy.
        let blocker = try RawClient(port: redis.port, receiveTimeout: .seconds(10))
        try blocker.sendCommand(["DEBUG", "SLEEP", "4"])
        try await Task.sleep(for: .milliseconds(50))

        let started = Date()
        let during = try client.command("GET", "listing:10")
        let elapsed = Date().timeIntervalSince(started)
        #expect(during.string?.contains("\"title\": \"Lamp\"") == true, "read during the stall: \(during)")
        #expect(elapsed < 2.5, "the read waited \(elapsed) s for a stalled Redis")
        print("slow Redis: a read during a 4 s stall answered from PostgreSQL in \(Int(elapsed * 1000)) ms")
        _ = try blocker.readReply()

        // Redis answers again: values are stored and served from it, and none is stale.
        try harness.database.connect().execute("UPDATE listings SET title = 'After the stall' WHERE id = 10")
        #expect(try await eventually(seconds: 5) {
            try client.command("GET", "listing:10").string?.contains("After the stall") == true
        })
        // Reads through the gateway fill Redis again once its connection is back.
        #expect(try await eventually(seconds: 5) {
            _ = try client.command("GET", "listing:10")
            return try harness.directRedis().command("GET", "listing:10").string?.contains("After the stall") == true
        }, "the gateway does not use Redis again after the stall")
    }
}
