import CacheModel
import NIOCore

/// One shard of the near cache: entries bounded in bytes, evicted by CLOCK (a referenced entry
/// gets a second chance), admitted by frequency (TinyLFU: a new key must be asked for more often
/// than the entry it would displace), and the record of invalidations under way that keeps a
/// value read from Redis before a write out of memory after the write's invalidation.
///
/// A value struct with no locks and no clock of its own, so that admission, eviction and every
/// race of an insert with an invalidation are unit-tested directly; `NearCache` holds one per
/// shard behind a mutex.
package struct NearCacheShard: Sendable {
    /// When a value may be served until (`NIODeadline` nanoseconds).
    package typealias Deadline = UInt64

    /// What the invalidation record covering a key said when its Redis GET was sent. A value
    /// read by that GET may enter only if no invalidation covering the key began since, and none
    /// was under way then (one under way may not have reached Redis yet).
    package struct Mark: Equatable, Sendable {
        let bucket: UInt64
        let family: UInt64
        let global: UInt64
    }

    package enum Offer: Equatable {
        case stored
        /// Not stored: not asked for as often as what it would displace, or larger than the shard.
        case notAdmitted
        /// Not stored: an invalidation covering the key began after the value was read.
        case invalidated
    }

    private struct Entry {
        let key: CacheKey
        let hash: Int
        var value: ByteBuffer
        var expires: Deadline
        var cost: Int
        var referenced: Bool
    }

    package let capacity: Int
    /// False: plain CLOCK, every value admitted (the baseline the admission policy is measured against).
    package let admitsByFrequency: Bool
    package private(set) var bytes = 0
    package private(set) var evictions = 0
    package private(set) var notAdmitted = 0
    package var entries: Int { index.count }

    private var slots: [Entry?] = []
    private var freeSlots: [Int] = []
    private var index: [CacheKey: Int] = [:]
    private var hand = 0
    private var sketch: FrequencySketch
    private var removals = RemovalRecord()

    /// Bytes an entry costs beyond its value: the key, the index and the slot.
    package static let entryOverhead = 112

    package init(capacity: Int, admitsByFrequency: Bool = true) {
        self.capacity = capacity
        self.admitsByFrequency = admitsByFrequency
        sketch = FrequencySketch(expectedEntries: max(256, capacity / 1024))
    }

    /// The value of `key` if held and not expired; every look-up counts towards the key's frequency.
    package mutating func lookup(_ key: CacheKey, hash: Int, now: Deadline) -> ByteBuffer? {
        sketch.increment(hash)
        guard let slot = index[key], let entry = slots[slot] else { return nil }
        guard entry.expires > now else {
            remove(at: slot)
            return nil
        }
        if !entry.referenced { slots[slot]?.referenced = true }
        return entry.value
    }

    package enum Read: Equatable {
        case value(ByteBuffer)
        /// Not held: the mark to send the Redis GET under (nil: keep nothing it reads).
        case miss(Mark?)
    }

    /// `lookup`, then `mark` when the value is not held.
    package mutating func read(_ key: CacheKey, hash: Int, now: Deadline) -> Read {
        if let value = lookup(key, hash: hash, now: now) { return .value(value) }
        return .miss(mark(hash: hash, family: key.family))
    }

    /// The mark for a GET of `key` about to be sent; nil when an invalidation covering the key
    /// is under way (its value must not be kept).
    package func mark(hash: Int, family: KeyFamily) -> Mark? {
        removals.mark(bucket: Self.bucket(hash), family: family)
    }

    /// Offers a value that a GET sent under `mark` read from Redis.
    package mutating func offer(_ key: CacheKey, hash: Int, value: ByteBuffer, expires: Deadline, mark: Mark) -> Offer {
        guard removals.accepts(mark, bucket: Self.bucket(hash), family: key.family) else { return .invalidated }
        let cost = value.readableBytes + Self.entryOverhead
        if let slot = index[key], let entry = slots[slot] {
            bytes += cost - entry.cost
            slots[slot] = Entry(key: key, hash: hash, value: value, expires: expires, cost: cost, referenced: entry.referenced)
            return makeRoom(keeping: slot) ? .stored : .notAdmitted
        }
        guard cost <= capacity else {
            notAdmitted += 1
            return .notAdmitted
        }
        let frequency = sketch.frequency(hash)
        while bytes + cost > capacity {
            guard let victim = nextVictim() else { break }
            if admitsByFrequency, let entry = slots[victim], frequency <= sketch.frequency(entry.hash) {
                notAdmitted += 1
                return .notAdmitted
            }
            remove(at: victim)
            evictions += 1
        }
        let entry = Entry(key: key, hash: hash, value: value, expires: expires, cost: cost, referenced: false)
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            slots[slot] = entry
        } else {
            slot = slots.count
            slots.append(entry)
        }
        index[key] = slot
        bytes += cost
        return .stored
    }

    // MARK: - Invalidation

    /// The keys are being invalidated: dropped now, and no value read before the invalidation
    /// ends (`removalFinished`) is kept.
    package mutating func removalStarted(_ key: CacheKey, hash: Int) {
        removals.started(bucket: Self.bucket(hash))
        if let slot = index[key] { remove(at: slot) }
    }

    package mutating func removalFinished(hash: Int) {
        removals.finished(bucket: Self.bucket(hash))
    }

    package mutating func removalStarted(family: KeyFamily) {
        removals.started(family: family)
        for slot in slots.indices where slots[slot]?.key.family == family { remove(at: slot) }
    }

    package mutating func removalFinished(family: KeyFamily) {
        removals.finished(family: family)
    }

    package mutating func removalStartedForAll() {
        removals.startedForAll()
        slots = []
        freeSlots = []
        index = [:]
        hand = 0
        bytes = 0
    }

    package mutating func removalFinishedForAll() {
        removals.finishedForAll()
    }

    // MARK: - Eviction

    /// CLOCK: the first entry from the hand on that was not used since the hand last passed it.
    private mutating func nextVictim() -> Int? {
        guard !index.isEmpty else { return nil }
        for _ in 0..<(slots.count * 2 + 1) {
            if hand >= slots.count { hand = 0 }
            let slot = hand
            hand += 1
            guard let entry = slots[slot] else { continue }
            if entry.referenced {
                slots[slot]?.referenced = false
            } else {
                return slot
            }
        }
        return nil
    }

    /// After a value grew in place: evicts others (never `slot`) until the shard fits again.
    private mutating func makeRoom(keeping slot: Int) -> Bool {
        while bytes > capacity {
            guard let victim = nextVictim() else { return false }
            if victim == slot {
                if index.count == 1 { remove(at: slot); return false }
                continue
            }
            remove(at: victim)
            evictions += 1
        }
        return true
    }

    private mutating func remove(at slot: Int) {
        guard let entry = slots[slot] else { return }
        slots[slot] = nil
        index[entry.key] = nil
        freeSlots.append(slot)
        bytes -= entry.cost
    }

    static let buckets = 256

    private static func bucket(_ hash: Int) -> Int {
        Int(UInt(bitPattern: hash >> 8) % UInt(buckets))
    }
}

/// Counts of invalidations begun and ended, per hashed bucket of keys, per family and for
/// everything: where they differ, one is under way.
private struct RemovalRecord {
    private var bucketsStarted = [UInt64](repeating: 0, count: NearCacheShard.buckets)
    private var bucketsFinished = [UInt64](repeating: 0, count: NearCacheShard.buckets)
    private var familiesStarted = [UInt64](repeating: 0, count: KeyFamily.allCases.count)
    private var familiesFinished = [UInt64](repeating: 0, count: KeyFamily.allCases.count)
    private var globalStarted: UInt64 = 0
    private var globalFinished: UInt64 = 0

    func mark(bucket: Int, family: KeyFamily) -> NearCacheShard.Mark? {
        let ordinal = family.ordinal
        guard bucketsStarted[bucket] == bucketsFinished[bucket], familiesStarted[ordinal] == familiesFinished[ordinal],
              globalStarted == globalFinished else { return nil }
        return NearCacheShard.Mark(bucket: bucketsStarted[bucket], family: familiesStarted[ordinal], global: globalStarted)
    }

    func accepts(_ mark: NearCacheShard.Mark, bucket: Int, family: KeyFamily) -> Bool {
        mark.bucket == bucketsStarted[bucket] && mark.family == familiesStarted[family.ordinal] && mark.global == globalStarted
    }

    mutating func started(bucket: Int) { bucketsStarted[bucket] &+= 1 }
    mutating func finished(bucket: Int) { bucketsFinished[bucket] &+= 1 }
    mutating func started(family: KeyFamily) { familiesStarted[family.ordinal] &+= 1 }
    mutating func finished(family: KeyFamily) { familiesFinished[family.ordinal] &+= 1 }
    mutating func startedForAll() { globalStarted &+= 1 }
    mutating func finishedForAll() { globalFinished &+= 1 }
}
