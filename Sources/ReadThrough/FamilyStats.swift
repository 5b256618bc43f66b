import CacheModel
import Synchronization

/// Per-family counters behind `INFO` (hits, misses, fills, negative hits, queries).
public final class FamilyStats: Sendable {
    /// The counters of one family; all relaxed atomics, bumped on the hot path.
    public final class Counters: Sendable {
        let hits = Atomic<Int>(0)
        let misses = Atomic<Int>(0)
        let negativeHits = Atomic<Int>(0)
        let fills = Atomic<Int>(0)
        let absentFills = Atomic<Int>(0)
        let queries = Atomic<Int>(0)
        let fillErrors = Atomic<Int>(0)
        /// Misses refused at once because too many fills were already waiting.
        let shed = Atomic<Int>(0)
        let fillMicroseconds = Atomic<Int>(0)

        public var hitCount: Int { hits.load(ordering: .relaxed) }
        public var missCount: Int { misses.load(ordering: .relaxed) }
        public var negativeHitCount: Int { negativeHits.load(ordering: .relaxed) }
        public var fillCount: Int { fills.load(ordering: .relaxed) }
        public var absentFillCount: Int { absentFills.load(ordering: .relaxed) }
        public var queryCount: Int { queries.load(ordering: .relaxed) }
        public var fillErrorCount: Int { fillErrors.load(ordering: .relaxed) }
        public var shedCount: Int { shed.load(ordering: .relaxed) }
        /// Mean time of one fill query, in microseconds.
        public var meanQueryMicroseconds: Int {
            let count = queryCount
            return count == 0 ? 0 : fillMicroseconds.load(ordering: .relaxed) / count
        }
    }

    /// One entry per family, at `KeyFamily.ordinal`. An array rather than a dictionary: every
    /// hit looks its family up here, and a `KeyFamily` key would hash its raw value (a string)
    /// through a call into CacheModel.
    private let counters: [Counters]

    public init() {
        counters = KeyFamily.allCases.map { _ in Counters() }
    }

    public subscript(family: KeyFamily) -> Counters {
        counters[family.ordinal]
    }

    /// Sum of all families' hits (including negative hits), as Redis's `keyspace_hits`.
    public var totalHits: Int { counters.reduce(0) { $0 + $1.hitCount + $1.negativeHitCount } }
    public var totalMisses: Int { counters.reduce(0) { $0 + $1.missCount } }
    public var totalQueries: Int { counters.reduce(0) { $0 + $1.queryCount } }
}
