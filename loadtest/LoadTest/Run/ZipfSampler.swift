/// Draws ranks 0..<n with Zipf popularity: rank k has weight 1/(k+1)^s.
///
/// The CDF is computed once; a draw is one random number and a binary search, so a
/// worker thread pays a few dozen nanoseconds per key. The generator is the caller's
/// seeded `SplitMix64`, so the same seed gives the same key sequence.
public struct ZipfSampler: Sendable {
    private let cdf: [Double]

    public init(count: Int, skew: Double) {
        precondition(count > 0, "a Zipf sampler needs at least one rank")
        var cdf = [Double](repeating: 0, count: count)
        var sum = 0.0
        for rank in 0..<count {
            sum += 1.0 / pow(Double(rank + 1), skew)
            cdf[rank] = sum
        }
        for rank in 0..<count { cdf[rank] /= sum }
        cdf[count - 1] = 1
        self.cdf = cdf
    }

    public var count: Int { cdf.count }

    /// The rank for a uniform number in [0, 1): the first whose CDF exceeds it.
    public func rank(forUniform u: Double) -> Int {
        var low = 0
        var high = cdf.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cdf[middle] > u { high = middle } else { low = middle + 1 }
        }
        return low
    }

    public func next(_ random: inout SplitMix64) -> Int {
        rank(forUniform: Double(random.next() >> 11) * 0x1.0p-53)
    }

    /// Probability of `rank` (for tests and the report).
    public func probability(_ rank: Int) -> Double {
        rank == 0 ? cdf[0] : cdf[rank] - cdf[rank - 1]
    }
}

import Foundation
