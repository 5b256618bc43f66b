import CacheModel
import Histogram

/// Turns the raw figures of a finished run into a `RunReport`.
struct ReportBuilder {
    var options: RunOptions
    var interrupted: Bool
    var measuredSeconds: Double
    var total: TrafficWindow
    var before: InfoSnapshot?
    var after: InfoSnapshot?
    var writes: PostgresWriter.Counts?
    var staleness: StalenessVerifier.Counts?
    var timeline: [RunReport.Progress]
    var families: [KeyFamily]

    func build() -> RunReport {
        let histogram = total.latency
        let hasLatency = histogram.totalCount > 0
        func percentile(_ p: Double) -> UInt64 { hasLatency ? histogram.valueAtPercentile(p) : 0 }
        let latency = RunReport.Latency(
            p50Micros: percentile(50), p90Micros: percentile(90), p99Micros: percentile(99),
            p999Micros: percentile(99.9), maxMicros: hasLatency ? histogram.max : 0,
            meanMicros: hasLatency ? histogram.mean : 0)
        let perSecond = { (count: Int) in measuredSeconds > 0 ? Double(count) / measuredSeconds : 0 }

        let familyReports = families.map { family -> RunReport.Family in
            let client = total.families[family] ?? FamilyTally()
            var gateway: InfoSnapshot.FamilyCounters?
            if let b = before?.families[family], let a = after?.families[family] { gateway = a - b }
            return RunReport.Family(
                family: family, client: client, gateway: gateway, gatewayHitRate: gateway?.hitRate,
                clientValueRate: client.requests > 0 ? Double(client.values) / Double(client.requests) : nil)
        }
        var gatewayHitRate: Double?
        if before?.families.isEmpty == false {
            var sum = InfoSnapshot.FamilyCounters()
            for report in familyReports { if let g = report.gateway { sum.hits += g.hits; sum.negativeHits += g.negativeHits; sum.misses += g.misses } }
            gatewayHitRate = sum.hitRate
        } else {
            gatewayHitRate = LoadRunner.hitRate(from: before, to: after)
        }
        let queries: Int? = {
            guard let b = before?.int("postgres_queries"), let a = after?.int("postgres_queries") else { return nil }
            return a - b
        }()
        let writeCounts = writes ?? PostgresWriter.Counts()
        let postgres = RunReport.Postgres(
            gatewayQueries: queries, gatewayQueriesPerSecond: queries.map { perSecond($0) },
            writesApplied: writeCounts.total, writesPerSecond: perSecond(writeCounts.total),
            writeErrors: writeCounts.errors,
            writesByKind: Dictionary(uniqueKeysWithValues: writeCounts.applied.map { ($0.key.rawValue, $0.value) }))
        let invalidation = RunReport.Invalidation(
            lagP50Micros: after?.int("invalidation_lag_p50_usec"), lagP99Micros: after?.int("invalidation_lag_p99_usec"),
            lagMaxMicros: after?.int("invalidation_lag_max_usec"), lagSamples: after?.int("invalidation_lag_samples"))
        return RunReport(
            target: "\(options.host):\(options.port)", mode: options.mode, connections: options.connections,
            threads: options.threads, pipelineDepth: options.pipelineDepth, zipfSkew: options.zipfSkew,
            seed: options.seed, mix: Dictionary(uniqueKeysWithValues: options.mix.map { ($0.key.rawValue, $0.value) }),
            writeRate: options.writeRate, interrupted: interrupted, warmupSeconds: options.warmupSeconds,
            measuredSeconds: measuredSeconds, requests: total.requests, throughput: perSecond(total.requests),
            latency: latency, gatewayHitRate: gatewayHitRate,
            clientValueRate: LoadRunner.valueRate(Array(total.families.values)), families: familyReports,
            postgres: postgres, invalidation: invalidation, staleness: staleness, errors: total.errors,
            timeline: timeline)
    }
}
