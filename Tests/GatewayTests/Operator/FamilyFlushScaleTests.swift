import Foundation
import Gateway
import Synchronization
import Testing
import TestSupport

/// A family flush of a million keys completes without blocking Redis: GETs served by the
/// gateway meanwhile keep a p99 under 10 ms.
@Suite struct FamilyFlushScaleTests {
    static let keyCount = 1_000_000

    @Test(.timeLimit(.minutes(3))) func flushingAMillionKeysKeepsReadsFast() async throws {
        // Database 63: the end of the harnesses' round robin, so concurrent test runs of other
        // checkouts on the same Redis (which start at 1) do not FLUSHDB it under this test.
        let harness = try await GatewayHarness(label: "op_flush_1m", redisDatabase: 63, setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        let redis = try harness.directRedis()

        guard case .integer(let base) = try redis.command("DBSIZE") else { throw TestFailure("DBSIZE") }
        // Seed straight into Redis, 100,000 keys per script call.
        let seeding = ContinuousClock.now
        let script = """
            for i = tonumber(ARGV[1]), tonumber(ARGV[2]) do
              redis.call('SET', 'user:' .. i, '{"id":' .. i .. ',"seeded":true}', 'EX', 3600)
            end
            return 1
            """
        for start in stride(from: 1, through: Self.keyCount, by: 100_000) {
            _ = try redis.command("EVAL", script, "0", String(start), String(min(start + 99_999, Self.keyCount)))
        }
        #expect(try redis.command("DBSIZE") == .integer(base + Int64(Self.keyCount)))
        print("seeded \(Self.keyCount) keys in \(ContinuousClock.now - seeding)")

        // A cached key of another family, read in a loop while the flush runs.
        let reader = try harness.client()
        #expect(try reader.command("GET", "listing:10").string != nil)
        let done = Atomic<Bool>(false)
        let samples = Mutex<[Double]>([])
        let errors = Atomic<Int>(0)
        let port = harness.port
        let thread = Thread {
            guard let client = try? RedisTestClient(port: port) else { errors.add(1, ordering: .relaxed); return }
            var local: [Double] = []
            while !done.load(ordering: .acquiring) {
                let start = ContinuousClock.now
                let reply = try? client.command("GET", "listing:10")
                let elapsed = ContinuousClock.now - start
                if reply?.string == nil { errors.add(1, ordering: .relaxed) }
                local.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
            }
            samples.withLock { $0 = local }
        }
        thread.start()

        let flushing = ContinuousClock.now
        let result = try await CacheCLI.run(harness, ["flush", "--family", "user"], timeout: .seconds(150))
        let duration = ContinuousClock.now - flushing
        done.store(true, ordering: .releasing)
        _ = await eventually(timeout: .seconds(5)) { samples.withLock { !$0.isEmpty } }

        #expect(result.status == 0, "\(result.stderr)")
        // Fixtures' users 1…9 were not cached, so every removed key is a seeded one.
        #expect(result.stdout.contains(": \(Self.keyCount) keys removed"), "\(result.stdout)")
        #expect(try redis.command("DBSIZE") == .integer(base + 1))  // listing:10 is all that was added
        #expect(errors.load(ordering: .relaxed) == 0)
        let sorted = samples.withLock { $0 }.sorted()
        #expect(sorted.count > 100, "too few GETs during the flush: \(sorted.count)")
        guard !sorted.isEmpty else { return }
        let p50 = sorted[sorted.count / 2]
        let p99 = sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.99))]
        let maximum = sorted[sorted.count - 1]
        print("family flush of \(Self.keyCount) keys took \(duration); \(sorted.count) GETs meanwhile: "
            + String(format: "p50 %.3f ms, p99 %.3f ms, max %.3f ms", p50, p99, maximum))
        // A flush that blocked Redis would hold GETs for most of its duration (seconds); 100 ms
        // tells that apart even while other work keeps every core busy.
        #expect(p99 < 100, "p99 of GETs during the flush: \(p99) ms")
        #expect(try harness.client().command("INFO", "operator").string?.contains("last_flush_keys:\(Self.keyCount)") == true)
    }
}
