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

    private let counters: [KeyFamily: Counters]

    public init() {
        counters = Dictionary(uniqueKeysWithValues: KeyFamily.allCases.map { ($0, Counters()) })
    }

    public subscript(family: KeyFamily) -> Counters {
        // Every family has counters from init on.
        counters[family] ?? Counters()
    }

    /// Sum of all families' hits (including negative hits), as Redis's `keyspace_hits`.
    public var totalHits: Int { counters.values.reduce(0) { $0 + $1.hitCount + $1.negativeHitCount } }
    public var totalMisses: Int { counters.values.reduce(0) { $0 + $1.missCount } }
    public var totalQueries: Int { counters.values.reduce(0) { $0 + $1.queryCount } }
}
