import CacheModel
import Testing

@testable import Gateway

/// The tracking table's decisions, without sockets.
struct TrackingTableTests {
    private let user1 = CacheKey(family: .user, id: 1)
    private let user2 = CacheKey(family: .user, id: 2)
    private let listing3 = CacheKey(family: .listing, id: 3)

    @Test func aReadIsAnnouncedOnceThenForgotten() {
        var table = TrackingTable(maxKeys: 0)
        table.enable(client: 1, options: TrackingOptions())
        #expect(table.remember([user1], client: 1).isEmpty)
        #expect(table.invalidate([user1, user2]) == [.init(client: 1, target: 1, notice: .keys(["user:1"]))])
        #expect(table.invalidate([user1]).isEmpty)
        #expect(table.keyCount == 0)
    }

    @Test func redirectAndDisabledClients() {
        var table = TrackingTable(maxKeys: 0)
        var options = TrackingOptions()
        options.redirect = 9
        table.enable(client: 1, options: options)
        table.enable(client: 2, options: TrackingOptions())
        _ = table.remember([user1], client: 1)
        _ = table.remember([user1], client: 2)
        table.disable(client: 2)
        #expect(table.invalidate([user1]) == [.init(client: 1, target: 9, notice: .keys(["user:1"]))])
    }

    @Test func theBoundAnnouncesWhatItForgets() {
        var table = TrackingTable(maxKeys: 2)
        table.enable(client: 1, options: TrackingOptions())
        #expect(table.remember([user1, user2], client: 1).isEmpty)
        #expect(table.remember([listing3], client: 1) == [.init(client: 1, target: 1, notice: .keys(["user:1"]))])
        #expect(table.keyCount == 2 && table.evictions == 1)
    }

    /// A key forgotten and read again takes a new place: its old place does not evict it.
    @Test func aKeyReadAgainIsNotEvictedByItsOldPlace() {
        var table = TrackingTable(maxKeys: 2)
        table.enable(client: 1, options: TrackingOptions())
        _ = table.remember([user1], client: 1)
        _ = table.invalidate([user1])
        _ = table.remember([user2], client: 1)
        _ = table.remember([user1], client: 1)
        #expect(table.remember([listing3], client: 1) == [.init(client: 1, target: 1, notice: .keys(["user:2"]))])
    }

    @Test func broadcastMatchesPrefixesAndFamilies() {
        var table = TrackingTable(maxKeys: 0)
        var options = TrackingOptions()
        options.mode = .broadcast(prefixes: ["listing:"])
        table.enable(client: 4, options: options)
        #expect(table.invalidate([user1, listing3]) == [.init(client: 4, target: 4, notice: .keys(["listing:3"]))])
        #expect(table.invalidate(families: [.user]).isEmpty)
        #expect(table.invalidate(families: [.listing]) == [.init(client: 4, target: 4, notice: .all)])
    }

    @Test func familyAndFullFlushes() {
        var table = TrackingTable(maxKeys: 0)
        table.enable(client: 1, options: TrackingOptions())
        _ = table.remember([user1, listing3], client: 1)
        #expect(table.invalidate(families: [.user]) == [.init(client: 1, target: 1, notice: .keys(["user:1"]))])
        #expect(table.invalidateAll() == [.init(client: 1, target: 1, notice: .all)])
        #expect(table.keyCount == 0)
    }
}
