import Synchronization

/// The last few thousand invalidation lags (commit to keys gone in Redis), for
/// percentiles in `INFO`. A ring buffer: constant memory, cheap to record.
package final class LagRecorder: Sendable {
    private let capacity = 8_192
    private let samples = Mutex<(values: [Int], next: Int, total: Int)>(([], 0, 0))

    package func record(microseconds: Int) {
        samples.withLock { state in
            if state.values.count < capacity {
                state.values.append(microseconds)
            } else {
                state.values[state.next] = microseconds
            }
            state.next = (state.next + 1) % capacity
            state.total += 1
        }
    }

    /// Percentiles (0...100) of the recent samples in microseconds; nil without samples.
    package func percentiles(_ ranks: [Double]) -> [Int]? {
        let values = samples.withLock { $0.values }
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        return ranks.map { rank in
            let index = Int((rank / 100 * Double(sorted.count - 1)).rounded())
            return sorted[min(max(index, 0), sorted.count - 1)]
        }
    }

    package var count: Int { samples.withLock { $0.total } }
}
