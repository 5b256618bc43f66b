import Foundation
import Gateway
import Postgres
import Testing
import TestSupport

/// Bad networks between the gateway and its backends (issue 22): added latency (20 and
/// 200 ms each way), 5% packet loss and a silent 10 s partition, made by a `FaultProxy` on
/// the path to a private Redis or PostgreSQL, each under readers and a writer. Per fault:
/// the error window clients saw, the slowest reply, how soon the gateway noticed a silent peer
/// (partition), how soon after the heal it was back (connected, caught up), and that every row
/// reads as PostgreSQL has it afterwards. Faults towards PostgreSQL start with an empty cache,
/// so that reads are misses that need it. `QUICKSELL_TEST_BUSY=1` runs it with every core busy.
@Suite(.serialized, .timeLimit(.minutes(3))) struct NetworkFaultTests {
    /// The gateway's limits in these tests: what a silent peer is noticed within.
    static let redisCommandTimeoutMilliseconds = 1_000
    static let statementTimeoutMilliseconds = 1_000
    static let listenerTimeoutSeconds = 2

    @Test func faultsBetweenTheGatewayAndRedis() async throws {
        try await run(.redis)
    }

    @Test func faultsBetweenTheGatewayAndPostgreSQL() async throws {
        try await run(.postgres)
    }

    // MARK: - One target, every fault

    enum Target: String { case redis, postgres }

    private func run(_ target: Target) async throws {
        let busy = ProcessInfo.processInfo.environment["QUICKSELL_TEST_BUSY"] == "1"
            ? try BusyProcesses(bound: .seconds(180)) : nil
        defer { busy?.stop() }
        let rows = 500
        let redis = try PrivateRedis()
        defer { redis.stop() }
        let postgres = try PrivatePostgres()
        defer { postgres.remove() }
        try ListingRows.setUp(count: rows)(try postgres.connect())
        let proxy = try FaultProxy(upstreamPort: target == .redis ? redis.port : postgres.port)
        defer { proxy.stop() }
        let harness = try await GatewayHarness(
            label: "network_\(target)",
            redisURL: target == .redis ? proxy.url(replacingPortIn: redis.url) : redis.url,
            postgresURL: target == .postgres ? proxy.url(replacingPortIn: postgres.url) : postgres.url,
            configure: {
                $0.redisCommandTimeoutMilliseconds = Self.redisCommandTimeoutMilliseconds
                $0.postgres.connectTimeoutSeconds = 2
                $0.postgres.statementTimeoutMilliseconds = Self.statementTimeoutMilliseconds
                $0.invalidation.listenerTimeoutSeconds = Self.listenerTimeoutSeconds
            })
        defer { Task { await harness.stop() } }
        try await harness.waitForListener()

        let faults: [(FaultProxy.Fault, seconds: Double)] = [
            (.latency(.milliseconds(20)), 3), (.latency(.milliseconds(200)), 3), (.loss(probability: 0.05), 4),
            (.partition, 10),
        ]
        for (fault, seconds) in faults {
            let figures = try await measure(fault, for: seconds, target: target, harness: harness, proxy: proxy,
                                            postgres: postgres, rows: rows)
            print("network fault: target=\(target) \(figures)\(busy == nil ? "" : " (every core busy)")")
            check(figures, fault: fault, seconds: seconds, target: target)
        }
    }

    /// What one fault did.
    struct Figures: CustomStringConvertible {
        var fault: FaultProxy.Fault
        var readers = FaultReaders.Report()
        var writes = SoakWriter.Counts()
        /// From the fault's start until the gateway reported the peer gone (partition only).
        var detectedSeconds: Double?
        /// From the heal until the gateway was connected to the backend and caught up again.
        var recoverySeconds = 0.0
        /// From the heal until every row read through the gateway as PostgreSQL has it.
        var freshSeconds: Double?
        var stale: [String] = []
        var info: [String: String] = [:]

        var description: String {
            "fault=\"\(fault)\" \(readers) writes=\(writes.committed) write_errors=\(writes.failed) "
                + "detected_s=\(detectedSeconds.map { String(format: "%.3f", $0) } ?? "-") "
                + "recovery_s=\(String(format: "%.3f", recoverySeconds)) "
                + "fresh_s=\(freshSeconds.map { String(format: "%.3f", $0) } ?? "never") stale=\(stale.count) "
                + "listener_reconnects=\(info["listener_reconnects"] ?? "?") recoveries=\(info["recoveries"] ?? "?") "
                + "recovered_keys=\(info["recovered_keys"] ?? "?") "
                + "replays=\(info["invalidation_transaction_replays"] ?? "?")"
        }
    }

    private func measure(_ fault: FaultProxy.Fault, for seconds: Double, target: Target, harness: GatewayHarness,
                         proxy: FaultProxy, postgres: PrivatePostgres, rows: Int) async throws -> Figures {
        var figures = Figures(fault: fault)
        let readers = FaultReaders(count: 4, rows: rows, port: harness.port)
        let writer = SoakWriter(url: postgres.url, rows: rows, perSecond: 100)
        try await Task.sleep(for: .seconds(1))

        proxy.set(fault)
        let started = Date()
        // Faults on the way to PostgreSQL matter to misses: empty the cache so reads must fill.
        if target == .postgres { _ = try harness.directRedis().command("FLUSHDB") }
        while Date().timeIntervalSince(started) < seconds {
            if fault == .partition, figures.detectedSeconds == nil, try peerGone(target, harness) {
                figures.detectedSeconds = Date().timeIntervalSince(started)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        proxy.set(.none)
        let healed = Date()
        while Date().timeIntervalSince(healed) < TimeBounds.recovery {
            if try backUp(target, harness) { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        figures.recoverySeconds = Date().timeIntervalSince(healed)
        try await Task.sleep(for: .seconds(1))
        figures.writes = try writer.finish()
        figures.readers = try readers.finish()

        let client = try harness.client()
        let database = try postgres.connect()
        if try await eventually(seconds: TimeBounds.recovery, {
            figures.stale = try ListingRows.staleKeys(client: client, connection: database)
            return figures.stale.isEmpty
        }) {
            figures.freshSeconds = Date().timeIntervalSince(healed)
        }
        figures.info = try harness.invalidationInfo()
        return figures
    }

    /// The gateway says the backend is gone: Redis's health probe, or the listener's stream.
    private func peerGone(_ target: Target, _ harness: GatewayHarness) throws -> Bool {
        switch target {
        case .redis:
            return try harness.client().command("INFO", "gateway").string?.contains("redis_status:down") == true
        case .postgres:
            return try harness.invalidationInfo()["listener_connected"] == "0"
        }
    }

    /// Connected again: Redis up, the listener streaming and caught up, a read answered.
    private func backUp(_ target: Target, _ harness: GatewayHarness) throws -> Bool {
        let info = try harness.invalidationInfo()
        guard info["listener_connected"] == "1", info["listener_caught_up"] == "1" else { return false }
        let client = try harness.client()
        if target == .redis,
           try client.command("INFO", "gateway").string?.contains("redis_status:up") != true { return false }
        return try client.command("GET", "listing:1").string != nil
    }

    /// What the failure-mode table promises for this fault.
    private func check(_ figures: Figures, fault: FaultProxy.Fault, seconds: Double, target: Target) {
        let readers = figures.readers
        #expect(figures.freshSeconds != nil, "stale after \(fault): \(figures.stale.prefix(5))")
        #expect(readers.replies > 200 && figures.writes.committed > 100, "the workload barely ran: \(figures)")
        #expect(figures.recoverySeconds < TimeBounds.recovery, "not back within \(TimeBounds.recovery) s: \(figures)")
        // Only misses may fail, and only with -TRYAGAIN (Redis away: reads go to PostgreSQL).
        #expect(readers.errors.keys.allSatisfy { $0 == "TRYAGAIN" }, "\(fault): \(readers.errors)")
        switch fault {
        case .partition:
            // Noticed within the configured limits (Redis: the command timeout and the health
            // probe; PostgreSQL: the replication timeout), with room for a busy machine.
            let limit = target == .redis
                ? Double(Self.redisCommandTimeoutMilliseconds) / 1000 : Double(Self.listenerTimeoutSeconds)
            #expect((figures.detectedSeconds ?? .infinity) < limit + 3, "\(fault) not noticed: \(figures)")
            // Errors only while the path is cut (and its detection), not after the heal.
            #expect(readers.errorWindowSeconds < seconds + 3, "errors spread over \(readers.errorWindowSeconds) s")
            // A reply waits for time limits, never for the partition: a hit for one Redis call
            // timing out and the fallback; a miss for the fill query ahead of it and its own,
            // each given up at the statement timeout + 1 s (or the connect timeout, 2 s).
            let slowest = target == .redis
                ? 2 * Double(Self.redisCommandTimeoutMilliseconds) / 1000 + 2
                : 2 * Double(Self.statementTimeoutMilliseconds + 1_000) / 1000 + 2
            #expect(readers.slowestSeconds < slowest, "a reply took \(readers.slowestSeconds) s")
        case .latency, .loss, .none:
            // A slow path within the limits fails nothing.
            #expect(readers.errorCount == 0, "\(fault): \(readers.errors)")
        }
    }
}
