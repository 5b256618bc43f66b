import Foundation

/// The human-readable report: aligned text, one fact a line, families as a table.
public enum ReportTable {
    public static func render(_ report: RunReport) -> String {
        var lines: [String] = []
        let status = report.interrupted ? " (INTERRUPTED: partial report)" : ""
        lines.append("quicksell-loadtest run against \(report.target), mode \(report.mode.rawValue)\(status)")
        lines.append("  connections \(report.connections), threads \(report.threads), pipeline \(report.pipelineDepth), "
            + "zipf \(format(report.zipfSkew, 2)), seed \(report.seed), writes \(format(report.writeRate, 0))/s")
        lines.append("")
        lines.append(row("measured", "\(format(report.measuredSeconds, 1)) s after \(format(report.warmupSeconds, 1)) s warm-up"))
        lines.append(row("requests", "\(report.requests)"))
        lines.append(row("throughput", "\(format(report.throughput, 0)) req/s"))
        for share in report.perTarget ?? [] {
            lines.append(row("  \(share.target)", "\(format(share.throughput, 0)) req/s (\(share.requests) requests, "
                + "\(share.errors) errors)"))
        }
        let l = report.latency
        lines.append(row("latency", "p50 \(ms(l.p50Micros))  p90 \(ms(l.p90Micros))  p99 \(ms(l.p99Micros))  "
            + "p99.9 \(ms(l.p999Micros))  max \(ms(l.maxMicros)) ms"))
        lines.append(row("hit rate (gateway)", percent(report.gatewayHitRate)))
        lines.append(row("value rate (client)", percent(report.clientValueRate)))
        let pg = report.postgres
        lines.append(row("postgres fills", pg.gatewayQueries.map { "\($0) queries, \(format(pg.gatewayQueriesPerSecond ?? 0, 1))/s" } ?? "n/a"))
        lines.append(row("postgres writes", "\(pg.writesApplied) (\(format(pg.writesPerSecond, 1))/s), \(pg.writeErrors) failed"))
        let inv = report.invalidation
        lines.append(row("invalidation lag", inv.lagP50Micros.map { "p50 \(ms(UInt64(max(0, $0)))) ms  p99 \(ms(UInt64(max(0, inv.lagP99Micros ?? 0)))) ms (\(inv.lagSamples ?? 0) samples)" } ?? "n/a"))
        if let stale = report.staleness {
            lines.append(row("staleness", "\(stale.verified) reads verified, \(stale.stale) stale "
                + "(\(stale.sampled) sampled, \(stale.suspect) re-checked, \(stale.dropped) dropped, \(stale.errors) errors, \(stale.inconclusive) inconclusive)"))
        } else {
            lines.append(row("staleness", "not verified"))
        }
        let errors = report.errors.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        lines.append(row("errors", errors.isEmpty ? "0" : errors))
        lines.append("")
        lines.append(pad("family", 22) + pad("requests", 10, left: true) + pad("nulls", 8, left: true)
            + pad("errors", 8, left: true) + pad("gw lookups", 12, left: true) + pad("gw hit", 9, left: true)
            + pad("client val", 12, left: true))
        for family in report.families {
            lines.append(pad(family.family.rawValue, 22) + pad("\(family.client.requests)", 10, left: true)
                + pad("\(family.client.nulls)", 8, left: true) + pad("\(family.client.errors)", 8, left: true)
                + pad(family.gateway.map { "\($0.lookups)" } ?? "n/a", 12, left: true)
                + pad(percent(family.gatewayHitRate), 9, left: true)
                + pad(percent(family.clientValueRate), 12, left: true))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One progress line: `[  3s] 12345 req/s  hit 97.2%  p99 1.23 ms  errors 0`.
    public static func progressLine(_ sample: RunReport.Progress) -> String {
        let phase = sample.measuring ? "" : " (warm-up)"
        return "[\(pad(format(sample.second, 0), 4, left: true))s] \(pad(format(sample.requestsPerSecond, 0), 7, left: true)) req/s  "
            + "hit \(percent(sample.hitRate))  p99 \(ms(sample.p99Micros)) ms  errors \(sample.errors)\(phase)"
    }

    static func percent(_ value: Double?) -> String {
        value.map { format($0 * 100, 2) + "%" } ?? "n/a"
    }

    static func ms(_ micros: UInt64) -> String { format(Double(micros) / 1000, 3) }

    static func format(_ value: Double, _ decimals: Int) -> String {
        String(format: "%.\(decimals)f", value)
    }

    private static func row(_ label: String, _ value: String) -> String { pad(label, 21) + value }

    static func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - text.count))
        return left ? fill + text : text + fill
    }
}
