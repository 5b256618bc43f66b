import CacheModel
import Synchronization

/// Counters that move whenever cached keys are invalidated, so that `WATCH` can tell at
/// `EXEC` whether a watched key may have changed since. Keys share hashed buckets: a write
/// to another key of the same bucket aborts a transaction too, which is safe (the client
/// retries); a missed abort is not, so every invalidation path bumps a counter here.
package final class InvalidationEpochs: Sendable {
    /// What `WATCH` recorded for one key: the counters that cover it at that moment.
    package struct Mark: Equatable, Sendable {
        /// The key's bucket, nil for a name that is no family key (never invalidated by key).
        let bucket: Int?
        let bucketEpoch: UInt64
        let familyEpoch: UInt64
        let globalEpoch: UInt64
        let family: KeyFamily?
    }

    package static let bucketCount = 4096

    private struct State {
        var buckets = [UInt64](repeating: 0, count: InvalidationEpochs.bucketCount)
        var families: [KeyFamily: UInt64] = [:]
        var global: UInt64 = 0
    }

    private let state = Mutex(State())

    package init() {}

    /// Keys invalidated one by one (a PostgreSQL write, `DEL`, a family flush's unlinks).
    package func bump(_ keys: [CacheKey]) {
        state.withLock { state in
            for key in keys { state.buckets[Self.bucket(of: key)] &+= 1 }
        }
    }

    /// Every key of a family invalidated at once.
    package func bump(family: KeyFamily) {
        state.withLock { $0.families[family, default: 0] &+= 1 }
    }

    /// Every key of every family invalidated at once.
    package func bumpAll() {
        state.withLock { $0.global &+= 1 }
    }

    /// The counters covering `key` now (nil: a name outside every family).
    package func mark(_ key: CacheKey?) -> Mark {
        state.withLock { state in
            guard let key else {
                return Mark(bucket: nil, bucketEpoch: 0, familyEpoch: 0, globalEpoch: state.global, family: nil)
            }
            let bucket = Self.bucket(of: key)
            return Mark(bucket: bucket, bucketEpoch: state.buckets[bucket],
                        familyEpoch: state.families[key.family, default: 0], globalEpoch: state.global, family: key.family)
        }
    }

    /// Whether no key that `marks` cover was invalidated since they were taken.
    package func unchanged(since marks: [Mark]) -> Bool {
        state.withLock { state in
            marks.allSatisfy { mark in
                guard mark.globalEpoch == state.global else { return false }
                guard let bucket = mark.bucket, let family = mark.family else { return true }
                return state.buckets[bucket] == mark.bucketEpoch && state.families[family, default: 0] == mark.familyEpoch
            }
        }
    }

    private static func bucket(of key: CacheKey) -> Int {
        Int(UInt(bitPattern: key.hashValue) % UInt(bucketCount))
    }
}
