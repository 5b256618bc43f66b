import CacheModel
import Foundation
@testable import Gateway
import NIOCore
import RedisBackend
import Testing
import TestSupport

/// The store and invalidation scripts go by SHA-1 (EVALSHA): the constants must be the SHA-1
/// Redis computes for the bodies, and a Redis that forgot the scripts must still get them.
@Suite struct RedisScriptTests {
    @Test(arguments: [("store", RedisScripts.store), ("invalidate", RedisScripts.invalidate)])
    func theConstantIsTheSHA1RedisComputesForTheBody(_ name: String, _ script: RedisScript) throws {
        let redis = try GatewayHarness.directRedis(database: 0)
        let loaded = try redis.command("SCRIPT", "LOAD", String(buffer: script.body))
        #expect(loaded.string == String(buffer: script.sha1),
                "RedisScripts.\(name): SCRIPT LOAD gave \(loaded); update the sha1 constant with the body")
    }

    @Test func fillsAndInvalidationsStillWorkAfterRedisForgetsTheScripts() async throws {
        let harness = try await GatewayHarness(label: "script_flush", setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        try await harness.waitForListener()
        let client = try harness.client()
        let direct = try harness.directRedis()

        // A fill's store: EVALSHA meets NOSCRIPT and is sent again as EVAL.
        #expect(try direct.command("SCRIPT", "FLUSH") == .status("OK"))
        let first = try client.command("GET", "user:1")
        #expect(first.string?.contains("\"id\": 1") == true, "\(first)")
        #expect(try await eventually(seconds: TimeBounds.invalidation) { try direct.command("GET", "user:1") == first },
                "the filled value was not stored after SCRIPT FLUSH")
        let ttl = try #require(try direct.command("PTTL", "user:1").integerValue)
        #expect(ttl > 3_500_000, "stored without its TTL: \(ttl) ms")

        // An invalidation: the same fallback, and the key goes.
        #expect(try direct.command("SCRIPT", "FLUSH") == .status("OK"))
        try harness.database.connect().execute("UPDATE users SET bio = 'after flush' WHERE id = 1")
        #expect(try await eventually(seconds: TimeBounds.invalidation) { try direct.command("EXISTS", "user:1") == .integer(0) },
                "user:1 still cached 2 s after the write")
        #expect(try client.command("GET", "user:1").string?.contains("after flush") == true)
        let counters = try harness.familyCounters(.user)
        #expect(counters["fills"] == 2)
        #expect(counters["fill_errors"] == 0)
    }
}
