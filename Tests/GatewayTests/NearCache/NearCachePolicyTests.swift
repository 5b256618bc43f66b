import CacheModel
import LoadTest
import NIOCore
import Testing
@testable import ReadThrough

/// The near cache's admission policy measured against plain LRU, on the load tool's Zipf
/// workload with a scan of cold keys passing through (issue 20): hit ratios are counted, not
/// timed, so the comparison is deterministic. The figures are in BENCHMARKS.md.
@Suite struct NearCachePolicyTests {
    /// 100,000 users read with Zipf 0.99 (the load tool's default skew), a cache that holds 5%
    /// of them, and in the middle third a scan reading 100,000 other users once each.
    private static let users = 100_000
    private static let valueBytes = 700
    private static let capacityEntries = 5_000
    private static let requests = 600_000

    private enum Policy: CustomStringConvertible {
        case tinyLFU, clock, lru
        var description: String {
            switch self {
            case .tinyLFU: "TinyLFU admission + CLOCK"
            case .clock: "CLOCK, no admission"
            case .lru: "plain LRU"
            }
        }
    }

    @Test func frequencyAdmissionKeepsTheHotSetThroughAScanWhereLRUDoesNot() {
        let tinyLFU = Self.hitRatio(.tinyLFU)
        let clock = Self.hitRatio(.clock)
        let lru = Self.hitRatio(.lru)
        for (policy, ratio) in [(Policy.tinyLFU, tinyLFU), (.clock, clock), (.lru, lru)] {
            print("near cache policy: \(policy) hit_ratio_zipf=\(Self.percent(ratio.zipf)) "
                + "hit_ratio_during_scan=\(Self.percent(ratio.duringScan)) overall=\(Self.percent(ratio.overall))")
        }
        #expect(tinyLFU.duringScan > lru.duringScan + 0.05, "the scan's own misses cost the Zipf reads little")
        #expect(tinyLFU.overall > lru.overall)
        #expect(tinyLFU.overall > clock.overall)
    }

    private struct Ratios {
        /// Hits among the Zipf reads outside the scan, among the Zipf reads during it, and of all reads.
        var zipf: Double
        var duringScan: Double
        var overall: Double
    }

    private static func percent(_ ratio: Double) -> String { String(format: "%.1f%%", ratio * 100) }

    private static func hitRatio(_ policy: Policy) -> Ratios {
        var cache = PolicyUnderTest(policy, capacity: capacityEntries * (valueBytes + NearCacheShard.entryOverhead))
        let zipf = ZipfSampler(count: users, skew: 0.99)
        var random = SplitMix64(seed: 20)
        let payload = ByteBuffer(repeating: UInt8(ascii: "u"), count: valueBytes)
        var zipfHits = 0, zipfReads = 0, scanZipfHits = 0, scanZipfReads = 0, allHits = 0
        var scanned = 0
        for request in 0..<requests {
            let inScan = request >= requests / 3 && request < 2 * requests / 3
            // During the scan every other read is a cold key never read before.
            let isScanRead = inScan && request % 2 == 0
            let id: Int
            if isScanRead {
                scanned += 1
                id = users + scanned
            } else {
                id = 1 + zipf.next(&random)
            }
            let key = CacheKey(family: .user, id: Int64(id))
            let hit = cache.read(key, value: payload)
            if hit { allHits += 1 }
            guard !isScanRead else { continue }
            if inScan {
                scanZipfReads += 1
                if hit { scanZipfHits += 1 }
            } else {
                zipfReads += 1
                if hit { zipfHits += 1 }
            }
        }
        return Ratios(zipf: Double(zipfHits) / Double(zipfReads), duringScan: Double(scanZipfHits) / Double(scanZipfReads),
                      overall: Double(allHits) / Double(requests))
    }

    /// A read as the gateway does it: served from memory, else read from Redis and offered.
    private struct PolicyUnderTest {
        var shard: NearCacheShard?
        var lru: LRU?

        init(_ policy: Policy, capacity: Int) {
            switch policy {
            case .tinyLFU: shard = NearCacheShard(capacity: capacity)
            case .clock: shard = NearCacheShard(capacity: capacity, admitsByFrequency: false)
            case .lru: lru = LRU(capacity: capacity / (NearCachePolicyTests.valueBytes + NearCacheShard.entryOverhead))
            }
        }

        mutating func read(_ key: CacheKey, value: ByteBuffer) -> Bool {
            if lru != nil { return lru?.read(key) ?? false }
            let hash = key.hashValue
            if shard?.lookup(key, hash: hash, now: 0) != nil { return true }
            if let mark = shard?.mark(hash: hash, family: key.family) {
                _ = shard?.offer(key, hash: hash, value: value, expires: .max, mark: mark)
            }
            return false
        }
    }

    /// Least recently used first out: a doubly linked list over arrays, for the comparison.
    private struct LRU {
        private var slots: [CacheKey: Int] = [:]
        private var keys: [CacheKey?] = []
        private var previous: [Int] = []
        private var next: [Int] = []
        private var head = -1
        private var tail = -1
        private let capacity: Int

        init(capacity: Int) { self.capacity = capacity }

        /// Whether `key` was held; afterwards it is held as the most recent.
        mutating func read(_ key: CacheKey) -> Bool {
            if let slot = slots[key] {
                unlink(slot)
                pushFront(slot)
                return true
            }
            let slot: Int
            if keys.count < capacity {
                slot = keys.count
                keys.append(key)
                previous.append(-1)
                next.append(-1)
            } else {
                slot = tail
                unlink(slot)
                if let old = keys[slot] { slots[old] = nil }
                keys[slot] = key
            }
            slots[key] = slot
            pushFront(slot)
            return false
        }

        private mutating func unlink(_ slot: Int) {
            if previous[slot] >= 0 { next[previous[slot]] = next[slot] } else { head = next[slot] }
            if next[slot] >= 0 { previous[next[slot]] = previous[slot] } else { tail = previous[slot] }
            previous[slot] = -1
            next[slot] = -1
        }

        private mutating func pushFront(_ slot: Int) {
            next[slot] = head
            previous[slot] = -1
            if head >= 0 { previous[head] = slot }
            head = slot
            if tail < 0 { tail = slot }
        }
    }
}
