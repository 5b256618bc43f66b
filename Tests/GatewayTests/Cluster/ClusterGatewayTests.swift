import CacheModel
import Foundation
import Gateway
import Logging
import Synchronization
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The gateway on the local Redis Cluster (`scripts/cluster.sh`, started by `make test`):
/// slots moving between primaries under reads, a primary killed under reads and writes, and
/// two gateways sharing the cluster.
@Suite(.serialized, .timeLimit(.minutes(2))) struct ClusterGatewayTests {
    private func clusterHarness(label: String, rows: Int) async throws -> GatewayHarness {
        let seeds = try TestEnvironment.clusterURLs()
        return try await GatewayHarness(label: label, setUp: ListingRows.setUp(count: rows)) { configuration in
            configuration.redisClusterNodes = seeds
        }
    }

    /// Reads every listing once through the gateway and waits until Redis holds them all.
    private func preload(_ harness: GatewayHarness, rows: Int) async throws {
        let client = try harness.client()
        for start in stride(from: 1, through: rows, by: 50) {
            _ = try client.command(["MGET"] + (start..<min(start + 50, rows + 1)).map { "listing:\($0)" })
        }
        let direct = try harness.directRedis()
        let stored = try await eventually(seconds: 5) {
            try (1...rows).allSatisfy { try direct.command("EXISTS", "listing:\($0)") == .integer(1) }
        }
        #expect(stored, "the filled values did not all reach the cluster")
    }

    @Test func slotsMoveBetweenPrimariesWhileReadsRunWithoutErrorsOrWrongValues() async throws {
        let rows = 300
        let harness = try await clusterHarness(label: "cluster_reshard", rows: rows)
        defer { Task { await harness.stop() } }
        try await preload(harness, rows: rows)
        let expected = try Dictionary(uniqueKeysWithValues: (1...rows).map { id in
            (id, try harness.directRedis().command("GET", "listing:\(id)"))
        })
        let missesBefore = try harness.familyCounters(.listing)["misses"] ?? 0

        // Readers: single GETs and MGETs spanning many slots, each reply compared with the value stored.
        let stop = Atomic<Bool>(false)
        let wrong = Mutex<[String]>([])
        let replies = Atomic<Int>(0)
        let readers = BackgroundWorkers(count: 3) { worker in
            let client = try RedisTestClient(port: harness.port)
            var random = SeededRandom(seed: UInt64(worker) + 77)
            while !stop.load(ordering: .relaxed) {
                if worker == 0 {
                    let ids = (0..<20).map { _ in Int(random.next() % UInt64(rows)) + 1 }
                    let reply = try client.command(["MGET"] + ids.map { "listing:\($0)" })
                    guard case .array(let values) = reply, values.count == ids.count else {
                        wrong.withLock { $0.append("MGET: \(reply)") }
                        continue
                    }
                    for (id, value) in zip(ids, values) where value != expected[id] {
                        wrong.withLock { $0.append("listing:\(id) in MGET: \(value)") }
                    }
                } else {
                    let id = Int(random.next() % UInt64(rows)) + 1
                    let reply = try client.command("GET", "listing:\(id)")
                    if reply != expected[id] { wrong.withLock { $0.append("listing:\(id): \(reply)") } }
                }
                replies.add(1, ordering: .relaxed)
            }
        }

        // Move the slots of listing:1…12 (one key at a time, so reads meet ASK redirections).
        var slots = Set<Int>()
        for id in 1...12 { slots.insert(Int(try RedisTestClient(port: TestCluster.seedPorts()[0])
            .command("CLUSTER", "KEYSLOT", "listing:\(id)").integerValue ?? 0)) }
        var moves: [String] = []
        for slot in slots.sorted() {
            let move = try ClusterSlotMover.move(slot: slot)
            moves.append("\(slot):\(move.from)->\(move.to)")
        }
        try await Task.sleep(for: .milliseconds(300))
        stop.store(true, ordering: .relaxed)
        try readers.join()

        let misses = (try harness.familyCounters(.listing)["misses"] ?? 0) - missesBefore
        let problems = wrong.withLock { $0 }
        print("cluster reshard: moved \(moves.count) slots (\(moves.joined(separator: " "))), "
            + "\(replies.load(ordering: .relaxed)) replies, \(problems.count) wrong, \(misses) misses")
        #expect(problems.isEmpty, "\(problems.prefix(5))")
        // Every read was answered by Redis (a redirection never turned into a miss or an error).
        #expect(misses == 0, "\(misses) reads missed the cache during the moves")
        #expect(replies.load(ordering: .relaxed) > 100)
        // The slots really moved: each key now lives with its new owner.
        for id in 1...12 { #expect(try harness.directRedis().command("GET", "listing:\(id)") == expected[id]) }
    }

    @Test func aKilledPrimaryIsReplacedByItsReplicaAndNothingStaleIsServed() async throws {
        let rows = 200
        let harness = try await clusterHarness(label: "cluster_failover", rows: rows)
        defer { Task { await harness.stop() } }
        try await harness.waitForListener()
        try await preload(harness, rows: rows)
        let database = try harness.database.connect()
        let client = try harness.client()

        // The primary that serves listing:1 dies under four readers.
        let slot = Int(try RedisTestClient(port: TestCluster.seedPorts()[0])
            .command("CLUSTER", "KEYSLOT", "listing:1").integerValue ?? 0)
        let victim = try #require(try TestCluster.primaries().first { $0.slots.contains { $0.contains(slot) } })
        let pid = try TestCluster.pid(ofNodeOn: victim.port)
        let readers = FaultReaders(count: 4, rows: rows, port: harness.port)
        try await Task.sleep(for: .milliseconds(200))
        kill(pid, SIGKILL)
        let killed = Date()
        defer { try? TestCluster.restartNode(on: victim.port) }

        // Writes during the failover: their invalidations may fail and are replayed.
        for id in 1...20 { try ListingRows.write(database, id: id) }

        // The replica takes over (node timeout 1.5 s + election).
        let promoted = try await eventually(seconds: 20) {
            (try? TestCluster.primaries())?.contains { primary in
                primary.port != victim.port && primary.slots.contains { $0.contains(slot) }
            } == true
        }
        let failoverSeconds = Date().timeIntervalSince(killed)
        #expect(promoted, "no replica took over slot \(slot) within 20 s")

        // The gateway serves listing:1 from the cluster again (a hit), within a few seconds of the takeover.
        var hitAgain: Double?
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            let before = try harness.familyCounters(.listing)["hits"] ?? 0
            _ = try client.command("GET", "listing:1")
            if (try harness.familyCounters(.listing)["hits"] ?? 0) > before {
                hitAgain = Date().timeIntervalSince(killed)
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        for id in 21...30 { try ListingRows.write(database, id: id) }
        try await Task.sleep(for: .milliseconds(500))
        let report = try readers.finish()
        print("cluster failover: killed 127.0.0.1:\(victim.port) (pid \(pid)); replica promoted after "
            + "\(String(format: "%.2f", failoverSeconds)) s; gateway hit again after "
            + "\(hitAgain.map { String(format: "%.2f", $0) } ?? "never") s; readers: \(report)")
        #expect(hitAgain != nil, "the gateway never served a hit from the new primary")
        #expect(report.errorCount == 0, "clients saw errors: \(report)")
        // Nothing stale: every listing reads exactly as PostgreSQL has it.
        let stale = try await eventuallyValue(seconds: 5) {
            try ListingRows.staleKeys(client: client, connection: database)
        }
        #expect(stale.isEmpty, "stale after the failover: \(stale.prefix(5))")
    }

    @Test func twoGatewaysOnTheClusterBothApplyEveryInvalidation() async throws {
        let rows = 50
        let harness = try await clusterHarness(label: "cluster_two", rows: rows)
        defer { Task { await harness.stop() } }
        var logger = Logger(label: "test.gateway2")
        logger.logLevel = .warning
        var configuration = harness.configuration
        configuration.invalidation.replicationSlot = TestSlots.nextName()  // each gateway streams from its own slot
        let second = try await Gateway.start(configuration: configuration, logger: logger)
        defer { Task { await second.shutdown() } }
        try await harness.waitForListener()
        try await harness.waitForListener(port: second.port)
        let first = try harness.client()
        let other = try RedisTestClient(port: second.port)
        let database = try harness.database.connect()
        for round in 1...5 {
            for id in 1...rows { _ = try (id % 2 == 0 ? first : other).command("GET", "listing:\(id)") }
            for id in 1...rows { try ListingRows.write(database, id: id) }
            for client in [first, other] {
                let fresh = try await eventuallyValue(seconds: 3) {
                    try ListingRows.staleKeys(client: client, connection: database)
                }
                #expect(fresh.isEmpty, "round \(round): \(fresh.prefix(3))")
            }
        }
        // Both report the cluster, one line per primary.
        let info = try #require(try other.command("INFO", "gateway").string)
        #expect(info.contains("redis_mode:cluster"))
        #expect(info.contains("redis_node0:address="))
        #expect(info.contains("redis_status:up"))
    }
}

/// Polls `value` every 50 ms until it is empty or `seconds` pass; returns the last value.
private func eventuallyValue<T: Collection>(seconds: Double, _ value: () throws -> T) async throws -> T {
    let deadline = Date().addingTimeInterval(seconds)
    var last = try value()
    while !last.isEmpty && Date() < deadline {
        try await Task.sleep(for: .milliseconds(50))
        last = try value()
    }
    return last
}
