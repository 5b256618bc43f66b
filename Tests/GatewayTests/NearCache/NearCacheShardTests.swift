import CacheModel
import NIOCore
import Testing
@testable import ReadThrough

/// The near cache's shard without locks or clocks: what it keeps, for how long, within what
/// bound, and every order of a Redis read with an invalidation of the same key.
@Suite struct NearCacheShardTests {
    private static func value(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }
    private let user1 = CacheKey(family: .user, id: 1)

    @Test func aValueOfferedUnderAMarkIsServedUntilItExpires() throws {
        var shard = NearCacheShard(capacity: 1 << 20)
        let hash = user1.hashValue
        let mark = try #require(shard.mark(hash: hash, family: .user))
        #expect(shard.offer(user1, hash: hash, value: Self.value("alice"), expires: 1_000, mark: mark) == .stored)
        #expect(shard.lookup(user1, hash: hash, now: 999) == Self.value("alice"))
        #expect(shard.lookup(user1, hash: hash, now: 1_000) == nil)
        #expect(shard.entries == 0)
        #expect(shard.bytes == 0)
    }

    @Test func aReadThatAnInvalidationOvertookIsNotKept() throws {
        var shard = NearCacheShard(capacity: 1 << 20)
        let hash = user1.hashValue
        // The GET leaves, then the write's invalidation begins and ends before its reply is handled.
        let mark = try #require(shard.mark(hash: hash, family: .user))
        shard.removalStarted(user1, hash: hash)
        shard.removalFinished(hash: hash)
        #expect(shard.offer(user1, hash: hash, value: Self.value("old"), expires: .max, mark: mark) == .invalidated)
        #expect(shard.lookup(user1, hash: hash, now: 0) == nil)
    }

    @Test func aGetSentWhileAnInvalidationIsUnderWayKeepsNothing() {
        var shard = NearCacheShard(capacity: 1 << 20)
        let hash = user1.hashValue
        // The unlink may not have reached Redis yet: the GET may read the old value.
        shard.removalStarted(user1, hash: hash)
        #expect(shard.mark(hash: hash, family: .user) == nil)
        shard.removalFinished(hash: hash)
        #expect(shard.mark(hash: hash, family: .user) != nil)
    }

    @Test func anInvalidationDropsTheKeptValue() throws {
        var shard = NearCacheShard(capacity: 1 << 20)
        let hash = user1.hashValue
        let mark = try #require(shard.mark(hash: hash, family: .user))
        #expect(shard.offer(user1, hash: hash, value: Self.value("alice"), expires: .max, mark: mark) == .stored)
        shard.removalStarted(user1, hash: hash)
        #expect(shard.lookup(user1, hash: hash, now: 0) == nil)
        shard.removalFinished(hash: hash)
        let fresh = try #require(shard.mark(hash: hash, family: .user))
        #expect(shard.offer(user1, hash: hash, value: Self.value("alicia"), expires: .max, mark: fresh) == .stored)
        #expect(shard.lookup(user1, hash: hash, now: 0) == Self.value("alicia"))
    }

    @Test func familyAndFullFlushesDropTheirValuesAndRefuseOlderReads() throws {
        var shard = NearCacheShard(capacity: 1 << 20)
        let listing = CacheKey(family: .listing, id: 7)
        for key in [user1, listing] {
            let mark = try #require(shard.mark(hash: key.hashValue, family: key.family))
            #expect(shard.offer(key, hash: key.hashValue, value: Self.value(key.name), expires: .max, mark: mark) == .stored)
        }
        let userMark = try #require(shard.mark(hash: user1.hashValue, family: .user))
        shard.removalStarted(family: .listing)
        #expect(shard.lookup(listing, hash: listing.hashValue, now: 0) == nil)
        #expect(shard.lookup(user1, hash: user1.hashValue, now: 0) != nil)
        #expect(shard.mark(hash: listing.hashValue, family: .listing) == nil)
        shard.removalFinished(family: .listing)
        #expect(shard.mark(hash: listing.hashValue, family: .listing) != nil)

        shard.removalStartedForAll()
        #expect(shard.entries == 0)
        #expect(shard.mark(hash: user1.hashValue, family: .user) == nil)
        shard.removalFinishedForAll()
        #expect(shard.offer(user1, hash: user1.hashValue, value: Self.value("old"), expires: .max, mark: userMark) == .invalidated)
    }

    @Test func theShardNeverHoldsMoreThanItsCapacity() throws {
        let capacity = 64 * 1024
        var shard = NearCacheShard(capacity: capacity, admitsByFrequency: false)
        let payload = ByteBuffer(repeating: UInt8(ascii: "x"), count: 900)
        for id in 1...1_000 {
            let key = CacheKey(family: .listing, id: Int64(id))
            let mark = try #require(shard.mark(hash: key.hashValue, family: .listing))
            _ = shard.offer(key, hash: key.hashValue, value: payload, expires: .max, mark: mark)
            #expect(shard.bytes <= capacity)
        }
        #expect(shard.entries == capacity / (900 + NearCacheShard.entryOverhead))
        #expect(shard.evictions == 1_000 - shard.entries)
        let tooLarge = ByteBuffer(repeating: 0, count: capacity)
        let mark = try #require(shard.mark(hash: user1.hashValue, family: .user))
        #expect(shard.offer(user1, hash: user1.hashValue, value: tooLarge, expires: .max, mark: mark) == .notAdmitted)
    }

    @Test func aScanOfColdKeysDoesNotDisplaceTheHotSet() throws {
        var shard = NearCacheShard(capacity: 100 * (700 + NearCacheShard.entryOverhead))
        let payload = ByteBuffer(repeating: UInt8(ascii: "u"), count: 700)
        let hot = (1...50).map { CacheKey(family: .user, id: Int64($0)) }
        for _ in 0..<5 {
            for key in hot where shard.lookup(key, hash: key.hashValue, now: 0) == nil {
                let mark = try #require(shard.mark(hash: key.hashValue, family: .user))
                _ = shard.offer(key, hash: key.hashValue, value: payload, expires: .max, mark: mark)
            }
        }
        // A scan (each cold key read once) while the hot keys go on being read, one hot read per
        // cold one: the hot set is what the recent reads ask for most.
        for id in 1_000...6_000 {
            let key = CacheKey(family: .user, id: Int64(id))
            _ = shard.lookup(key, hash: key.hashValue, now: 0)
            let mark = try #require(shard.mark(hash: key.hashValue, family: .user))
            _ = shard.offer(key, hash: key.hashValue, value: payload, expires: .max, mark: mark)
            let hotKey = hot[id % hot.count]
            _ = shard.lookup(hotKey, hash: hotKey.hashValue, now: 0)
        }
        let kept = hot.filter { shard.lookup($0, hash: $0.hashValue, now: 0) != nil }.count
        #expect(kept == hot.count, "hot keys kept after the scan: \(kept) of \(hot.count)")
    }
}
