import CacheModel

/// Renders a `StatsReport` as an aligned, readable table.
enum StatsTable {
    static func render(_ report: StatsReport, address: String) -> String {
        var lines: [String] = []
        lines.append("gateway \(address)  version \(report.gatewayVersion)  up \(uptime(report.uptimeSeconds))")
        let health = report.health
        var healthLine = "health  redis \(health.redis)  postgres \(health.postgres)  listener \(health.listener)"
        if let error = health.redisError { healthLine += "  (redis: \(error))" }
        if let error = health.postgresError { healthLine += "  (postgres: \(error))" }
        lines.append(healthLine)
        lines.append("")
        let header = ["FAMILY", "HITS", "MISSES", "HIT RATE", "FILLS", "FILL AVG", "FILL ERR", "INVALIDATIONS", "LAG P50", "LAG P99"]
        var rows: [[String]] = report.families.map { family in
            [family.name, String(family.hits + family.negativeHits), String(family.misses), percent(family.hitRate),
             String(family.fills + family.absentFills), micros(family.fillLatencyAvgUsec), String(family.fillErrors),
             String(family.invalidationsApplied), micros(family.lagP50Usec), micros(family.lagP99Usec)]
        }
        let inv = report.invalidation
        rows.append(["total", String(report.hits), String(report.misses), percent(report.hitRate),
                     String(report.families.reduce(0) { $0 + $1.fills + $1.absentFills }), "",
                     String(report.families.reduce(0) { $0 + $1.fillErrors }),
                     String(report.families.reduce(0) { $0 + $1.invalidationsApplied }),
                     micros(inv.lagP50Usec), micros(inv.lagP99Usec)])
        lines += table(header: header, rows: rows)
        lines.append("")
        lines.append("invalidation \(inv.status)  lag max \(micros(inv.lagMaxUsec))")
        let flush = report.flush
        var flushLine = flush.inProgress > 0
            ? "flush   running: \(flush.family), \(flush.keysRemoved) keys removed so far"
            : "flush   none running"
        flushLine += "; \(flush.completed) family flush(es) done"
        if !flush.lastFamily.isEmpty {
            flushLine += " (last: \(flush.lastFamily), \(flush.lastKeys) keys in \(flush.lastMs) ms)"
        }
        lines.append(flushLine)
        return lines.joined(separator: "\n")
    }

    /// Left-aligned first column, right-aligned numbers.
    static func table(header: [String], rows: [[String]]) -> [String] {
        var widths = header.map(\.count)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                let pad = String(repeating: " ", count: widths[index] - cell.count)
                return index == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        return [line(header)] + rows.map(line)
    }

    static func percent(_ rate: Double?) -> String {
        guard let rate else { return "-" }
        let tenths = Int((rate * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10)%"
    }

    static func micros(_ value: Int?) -> String {
        guard let value else { return "-" }
        if value < 1000 { return "\(value) µs" }
        let hundredths = (value + 5) / 10
        return "\(hundredths / 100).\(String(format: "%02d", hundredths % 100)) ms"
    }

    static func uptime(_ seconds: Int) -> String {
        if seconds >= 86_400 { return "\(seconds / 86_400)d \(seconds % 86_400 / 3600)h" }
        if seconds >= 3600 { return "\(seconds / 3600)h \(seconds % 3600 / 60)m" }
        if seconds >= 60 { return "\(seconds / 60)m \(seconds % 60)s" }
        return "\(seconds)s"
    }
}
