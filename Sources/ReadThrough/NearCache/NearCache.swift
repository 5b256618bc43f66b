import CacheModel
import NIOCore
import Synchronization

/// Hot values kept in the gateway's memory and answered without asking Redis.
///
/// Only values read from Redis enter it, each offered with the `Mark` taken when its GET was
/// sent: a value is kept only if no invalidation covering its key began since (and none was
/// under way then). Invalidation drops a key from here before unlinking it in Redis, and the
/// record of the invalidation stays open until Redis has answered the unlink; so a value read
/// before a write never enters after that write's invalidation, and what Redis holds is already
/// coherent (the store script). Fills from PostgreSQL do not enter directly: a hot key is read
/// from Redis again before it is kept.
package final class NearCache: Sendable {
    package typealias Mark = NearCacheShard.Mark

    package let settings: NearCacheSettings
    private let shards: [Shard]
    private let ttlNanoseconds: [UInt64]
    private let enabledFamilies: [Bool]
    private let counters = Counters()

    private static let shardCount = 16

    package init(settings: NearCacheSettings, cacheSettings: CacheSettings) {
        self.settings = settings
        let perShard = max(1, settings.maxBytes / Self.shardCount)
        shards = (0..<Self.shardCount).map { _ in Shard(NearCacheShard(capacity: perShard)) }
        ttlNanoseconds = KeyFamily.allCases.map { family in
            UInt64(max(0, min(settings.ttlSeconds, cacheSettings.ttl(family)))) * 1_000_000_000
        }
        enabledFamilies = KeyFamily.allCases.map { settings.families.contains($0) }
    }

    /// Whether values of `family` are kept here.
    package func holds(_ family: KeyFamily) -> Bool { enabledFamilies[family.ordinal] }

    /// What a GET of `key` finds: the value held, or the mark its Redis GET is sent under (nil
    /// when its value must not be kept); one shard lock for both. Counted as a hit or a miss.
    package func read(_ key: CacheKey) -> NearCacheShard.Read {
        guard holds(key.family) else { return .miss(nil) }
        let hash = key.hashValue
        let now = NIODeadline.now().uptimeNanoseconds
        let read = shard(hash).state.withLock { $0.read(key, hash: hash, now: now) }
        if case .value = read {
            counters.hits.add(1, ordering: .relaxed)
        } else {
            counters.misses.add(1, ordering: .relaxed)
        }
        return read
    }

    /// Offers `value`, read from Redis by a GET sent under `mark`. The value is copied: the reply's
    /// bytes share a buffer with the rest of Redis's read.
    package func offer(_ key: CacheKey, value: ByteBuffer, mark: Mark) {
        var copy = ByteBufferAllocator().buffer(capacity: value.readableBytes)
        copy.writeImmutableBuffer(value)
        let hash = key.hashValue
        let expires = NIODeadline.now().uptimeNanoseconds + ttlNanoseconds[key.family.ordinal]
        let offer = shard(hash).state.withLock { $0.offer(key, hash: hash, value: copy, expires: expires, mark: mark) }
        switch offer {
        case .stored: counters.stores.add(1, ordering: .relaxed)
        case .notAdmitted: counters.notAdmitted.add(1, ordering: .relaxed)
        case .invalidated: counters.invalidatedOffers.add(1, ordering: .relaxed)
        }
    }

    // MARK: - Invalidation (each start is followed by its finish once Redis has the change)

    package func removalStarted(_ keys: [CacheKey]) {
        for key in keys {
            let hash = key.hashValue
            shard(hash).state.withLock { $0.removalStarted(key, hash: hash) }
        }
    }

    package func removalFinished(_ keys: [CacheKey]) {
        for key in keys {
            let hash = key.hashValue
            shard(hash).state.withLock { $0.removalFinished(hash: hash) }
        }
    }

    package func removalStarted(families: Set<KeyFamily>) {
        for shard in shards { shard.state.withLock { for family in families { $0.removalStarted(family: family) } } }
    }

    package func removalFinished(families: Set<KeyFamily>) {
        for shard in shards { shard.state.withLock { for family in families { $0.removalFinished(family: family) } } }
    }

    package func removalStartedForAll() {
        for shard in shards { shard.state.withLock { $0.removalStartedForAll() } }
    }

    package func removalFinishedForAll() {
        for shard in shards { shard.state.withLock { $0.removalFinishedForAll() } }
    }

    // MARK: - Counters

    package struct Snapshot: Sendable, Equatable {
        package var hits = 0
        package var misses = 0
        package var stores = 0
        package var notAdmitted = 0
        package var invalidatedOffers = 0
        package var evictions = 0
        package var entries = 0
        package var bytes = 0
    }

    package func snapshot() -> Snapshot {
        var snapshot = Snapshot(
            hits: counters.hits.load(ordering: .relaxed), misses: counters.misses.load(ordering: .relaxed),
            stores: counters.stores.load(ordering: .relaxed), notAdmitted: counters.notAdmitted.load(ordering: .relaxed),
            invalidatedOffers: counters.invalidatedOffers.load(ordering: .relaxed))
        for shard in shards {
            shard.state.withLock {
                snapshot.evictions += $0.evictions
                snapshot.entries += $0.entries
                snapshot.bytes += $0.bytes
            }
        }
        return snapshot
    }

    private func shard(_ hash: Int) -> Shard {
        shards[Int(UInt(bitPattern: hash) % UInt(Self.shardCount))]
    }

    private final class Shard: Sendable {
        let state: Mutex<NearCacheShard>
        init(_ shard: NearCacheShard) { state = Mutex(shard) }
    }

    private final class Counters: Sendable {
        let hits = Atomic<Int>(0)
        let misses = Atomic<Int>(0)
        let stores = Atomic<Int>(0)
        let notAdmitted = Atomic<Int>(0)
        let invalidatedOffers = Atomic<Int>(0)
    }
}
