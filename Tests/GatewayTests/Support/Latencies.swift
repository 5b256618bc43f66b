/// Request latencies a test measured, read back as percentiles in milliseconds.
struct Latencies {
    private(set) var milliseconds: [Double] = []

    var count: Int { milliseconds.count }

    /// Times `body` and records how long it took.
    mutating func time<T>(_ body: () throws -> T) rethrows -> T {
        let started = ContinuousClock.now
        defer { milliseconds.append(Self.milliseconds(ContinuousClock.now - started)) }
        return try body()
    }

    /// The nearest-rank percentile (`0.99` for p99); 0 with no samples.
    func percentile(_ fraction: Double) -> Double {
        guard !milliseconds.isEmpty else { return 0 }
        let sorted = milliseconds.sorted()
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count, max(rank, 1)) - 1]
    }

    var maximum: Double { milliseconds.max() ?? 0 }

    static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1_000 + Double(attoseconds) / 1e15
    }
}
