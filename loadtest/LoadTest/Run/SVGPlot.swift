import Foundation

/// `--plot FILE.svg`: throughput, hit rate and p99 over time, three stacked panels of
/// hand-written SVG polylines (no dependency). The warm-up is shaded.
public enum SVGPlot {
    public static func render(_ timeline: [RunReport.Progress], title: String) -> String {
        let width = 800.0, panelHeight = 160.0, left = 70.0, right = 20.0, top = 40.0, gap = 40.0
        let plotWidth = width - left - right
        let height = top + 3 * (panelHeight + gap)
        let maxSecond = max(1, timeline.map(\.second).max() ?? 1)
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
            viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(left)" y="22" font-size="15">\(escape(title))</text>

            """
        let panels: [(String, String, [Double?])] = [
            ("throughput (req/s)", "#1f77b4", timeline.map { $0.requestsPerSecond }),
            ("hit rate (%)", "#2ca02c", timeline.map { $0.hitRate.map { $0 * 100 } }),
            ("p99 latency (ms)", "#d62728", timeline.map { Double($0.p99Micros) / 1000 }),
        ]
        for (index, panel) in panels.enumerated() {
            let y0 = top + Double(index) * (panelHeight + gap)
            let values = panel.2.compactMap { $0 }
            let maxValue = niceMax(values.max() ?? 1)
            svg += "<text x=\"\(left)\" y=\"\(fmt(y0 - 6))\">\(panel.0)</text>\n"
            svg += "<rect x=\"\(left)\" y=\"\(fmt(y0))\" width=\"\(fmt(plotWidth))\" height=\"\(fmt(panelHeight))\" fill=\"none\" stroke=\"#999\"/>\n"
            if let warmupEnd = timeline.last(where: { !$0.measuring })?.second {
                svg += "<rect x=\"\(left)\" y=\"\(fmt(y0))\" width=\"\(fmt(plotWidth * warmupEnd / maxSecond))\" height=\"\(fmt(panelHeight))\" fill=\"#eee\"/>\n"
            }
            for tick in 0...4 {
                let value = maxValue * Double(tick) / 4
                let y = y0 + panelHeight - panelHeight * Double(tick) / 4
                svg += "<text x=\"\(fmt(left - 6))\" y=\"\(fmt(y + 4))\" text-anchor=\"end\">\(label(value))</text>\n"
                svg += "<line x1=\"\(left)\" y1=\"\(fmt(y))\" x2=\"\(fmt(left + plotWidth))\" y2=\"\(fmt(y))\" stroke=\"#ddd\"/>\n"
            }
            let points = zip(timeline, panel.2).compactMap { sample, value -> String? in
                guard let value else { return nil }
                let x = left + plotWidth * sample.second / maxSecond
                let y = y0 + panelHeight - panelHeight * min(value, maxValue) / maxValue
                return "\(fmt(x)),\(fmt(y))"
            }
            svg += "<polyline fill=\"none\" stroke=\"\(panel.1)\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"/>\n"
            svg += "<text x=\"\(fmt(left + plotWidth))\" y=\"\(fmt(y0 + panelHeight + 16))\" text-anchor=\"end\">seconds (0–\(Int(maxSecond)))</text>\n"
        }
        svg += "</svg>\n"
        return svg
    }

    private static func niceMax(_ value: Double) -> Double {
        guard value > 0 else { return 1 }
        let magnitude = pow(10, floor(log10(value)))
        for step in [1.0, 2.0, 2.5, 5.0, 10.0] where step * magnitude >= value { return step * magnitude }
        return 10 * magnitude
    }

    private static func label(_ value: Double) -> String {
        value >= 100 ? String(Int(value)) : String(format: "%.2g", value)
    }

    private static func fmt(_ value: Double) -> String { String(format: "%.1f", value) }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    }
}
