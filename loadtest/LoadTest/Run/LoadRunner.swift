import Foundation
import HiredisClient
import Histogram
import Postgres

/// Runs one load test: connects, reads the key universe, warms up, measures, reports.
///
/// Threads: `threads` readers (each with its share of the connections), one writer and
/// one verifier when enabled; the calling thread samples progress once a second. The run
/// ends after warm-up + duration, after `requests` measured requests, in `miss-only` mode
/// once every key was requested, or as soon as `interrupt` is raised (SIGINT) — then the
/// report is partial and says so.
public struct LoadRunner {
    private let options: RunOptions
    private let interrupt: StopFlag
    private let log: @Sendable (String) -> Void
    private let onMeasure: @Sendable () -> Void

    /// `onMeasure` runs when the warm-up ends, right after the "before" `INFO` (tests read
    /// the gateway's own counters there).
    public init(options: RunOptions, interrupt: StopFlag = StopFlag(), log: @escaping @Sendable (String) -> Void = { _ in },
                onMeasure: @escaping @Sendable () -> Void = {}) {
        self.options = options
        self.interrupt = interrupt
        self.log = log
        self.onMeasure = onMeasure
    }

    public func run() throws(RunError) -> RunReport {
        try options.validate()
        let targets = options.targets
        let target = targets.map(\.description).joined(separator: ",")
        for endpoint in targets { _ = try HiredisConnection.connect(host: endpoint.host, port: endpoint.port, timeoutSeconds: 3) }

        let universe: KeyUniverse
        do {
            let connection = try PostgresConnection(url: options.postgresURL, applicationName: "quicksell-loadtest run")
            universe = try KeyUniverse.load(from: connection, seed: options.seed, limit: options.maxKeysPerSet)
        } catch {
            throw .postgres("\(error)")
        }
        let chooser = try KeyChooser(options: options, universe: universe)
        log("target \(target): \(universe.userIDs.count) users, \(universe.listingIDs.count) listings, "
            + "families \(chooser.activeFamilies.map(\.rawValue).joined(separator: ","))")

        if options.mode == .hitOnly {
            let keys = universe.allKeys(of: chooser.activeFamilies)
            let warmed = try Prewarmer.run(keys: keys, host: options.host, port: options.port, preload: options.preload)
            log("hit-only: \(options.preload ? "preloaded and " : "")read \(warmed) keys once")
        }
        let distinctKeys = options.mode == .missOnly
            ? DistinctKeyCursor(families: chooser.activeFamilies, universe: universe) : nil
        if let distinctKeys { log("miss-only: \(distinctKeys.count) distinct keys, each requested once") }

        let stop = StopFlag()
        let verifier = options.verifyFraction > 0 && options.mode == .mixed
            ? StalenessVerifier(postgresURL: options.postgresURL, host: options.host, port: options.port,
                                patienceSeconds: options.verifyPatienceSeconds) : nil
        try verifier?.start()
        let writer = options.writeRate > 0 ? PostgresWriter(rate: options.writeRate, seed: options.seed, chooser: chooser, stop: stop) : nil
        try writer?.start(postgresURL: options.postgresURL)

        let counter = SharedCounter()
        // Reader thread i drives target i mod the number of targets.
        let workers = (0..<options.threads).map { index in
            let share = options.connections / options.threads + (index < options.connections % options.threads ? 1 : 0)
            return ReadWorker(index: index, connectionCount: share, options: options.aimed(at: targets[index % targets.count]),
                              chooser: chooser, stop: stop, verifier: verifier, measuredRequests: counter,
                              distinctKeys: distinctKeys)
        }
        let fetchInfo = { InfoSnapshot.combined(targets.map { InfoSnapshot.fetch(host: $0.host, port: $0.port) }) }
        // With a warm-up the clock starts once the workers run; without one, measuring
        // starts before the first request (a miss-only run counts every key's fill).
        if options.warmupSeconds > 0 { workers.forEach { $0.start() } }

        let clock = ContinuousClock()
        let start = clock.now
        let startedAt = Date().timeIntervalSince1970
        var measureStart: ContinuousClock.Instant?
        var infoBefore: InfoSnapshot?
        var lastInfo = fetchInfo()
        var timeline: [RunReport.Progress] = []
        var nextTick = start + .seconds(1)
        func seconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }
        if options.warmupSeconds == 0 {
            infoBefore = lastInfo
            onMeasure()
            workers.forEach { $0.stats.startMeasuring() }
            _ = writer?.takeCounts()
            measureStart = clock.now
            workers.forEach { $0.start() }
        }
        while true {
            if interrupt.isRaised { stop.raise() }
            if stop.isRaised { break }
            let elapsed = seconds(clock.now - start)
            if measureStart == nil, elapsed >= options.warmupSeconds {
                infoBefore = fetchInfo()
                onMeasure()
                workers.forEach { $0.stats.startMeasuring() }
                _ = writer?.takeCounts()
                measureStart = clock.now
            }
            if let measureStart, options.requests == nil, seconds(clock.now - measureStart) >= options.durationSeconds {
                stop.raise()
                break
            }
            if clock.now >= nextTick {
                nextTick = nextTick + .seconds(1)
                var window = TrafficWindow()
                for worker in workers { window.add(worker.stats.takeInterval()) }
                let info = fetchInfo()
                let sample = RunReport.Progress(
                    second: seconds(clock.now - start), requestsPerSecond: Double(window.requests),
                    hitRate: Self.hitRate(from: lastInfo, to: info) ?? Self.valueRate(window.families.values.map { $0 }),
                    p99Micros: window.latency.totalCount > 0 ? window.latency.valueAtPercentile(99) : 0,
                    errors: window.errorCount, measuring: measureStart != nil)
                lastInfo = info ?? lastInfo
                timeline.append(sample)
                if options.progress { log(ReportTable.progressLine(sample)) }
            }
            Thread.sleep(forTimeInterval: 0.01)
        }

        let deadline = Date().addingTimeInterval(15)
        while workers.contains(where: { !$0.isFinished }), Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        let measured = measureStart.map { seconds(clock.now - $0) } ?? 0
        writer?.waitUntilFinished()
        let infoAfter = fetchInfo()
        let staleness = verifier?.finish()

        var total = TrafficWindow()
        for worker in workers { total.add(worker.stats.total) }
        var perTarget: [RunReport.TargetShare] = []
        if targets.count > 1 {
            for (position, endpoint) in targets.enumerated() {
                var window = TrafficWindow()
                for (index, worker) in workers.enumerated() where index % targets.count == position {
                    window.add(worker.stats.total)
                }
                perTarget.append(RunReport.TargetShare(
                    target: endpoint.description, requests: window.requests,
                    throughput: measured > 0 ? Double(window.requests) / measured : 0, errors: window.errorCount))
            }
        }
        var report = ReportBuilder(options: options, interrupted: interrupt.isRaised, measuredSeconds: measured,
                                   total: total, before: infoBefore, after: infoAfter, writes: writer?.counts,
                                   staleness: staleness, timeline: timeline, families: chooser.activeFamilies).build()
        report.target = target
        report.startedAtUnixSeconds = startedAt
        report.perTarget = perTarget.isEmpty ? nil : perTarget
        return report
    }

    /// Hit rate between two `INFO stats` snapshots (keyspace hits over hits + misses).
    static func hitRate(from before: InfoSnapshot?, to after: InfoSnapshot?) -> Double? {
        guard let before, let after, let h0 = before.keyspaceHits, let m0 = before.keyspaceMisses,
              let h1 = after.keyspaceHits, let m1 = after.keyspaceMisses else { return nil }
        let lookups = (h1 - h0) + (m1 - m0)
        return lookups > 0 ? Double(h1 - h0) / Double(lookups) : nil
    }

    /// Replies with a value over all replies (the client's view).
    static func valueRate(_ tallies: [FamilyTally]) -> Double? {
        let requests = tallies.reduce(0) { $0 + $1.requests }
        return requests > 0 ? Double(tallies.reduce(0) { $0 + $1.values }) / Double(requests) : nil
    }
}
