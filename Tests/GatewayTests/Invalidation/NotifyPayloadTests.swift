import CacheModel
@testable import Invalidation
import Testing

/// The payloads of migration 009's triggers, and what the listener makes of malformed ones.
@Suite struct NotifyPayloadTests {
    @Test func keysCarryTheWritersTransactionAndTheStatementsTime() {
        let parsed = NotifyPayload.parse("734|1796672639888642|user:1,user_stats:1")
        #expect(parsed == .keys(InvalidationWrite(
            keys: ["user:1", "user_stats:1"], transactionID: "734", committedMicroseconds: 1_796_672_639_888_642)))
    }

    @Test func aStatementTooBigToListNamesItsFamilies() {
        let parsed = NotifyPayload.parse("737|1796672640233771|*user,leaderboard:weekly,marketplace_listings")
        #expect(parsed == .families([.user, .leaderboardWeekly, .marketplaceListings], transactionID: "737"))
    }

    @Test(arguments: [
        "", "user:1", "734|user:1", "x|1|user:1", "734|t|user:1", "734|1|", "734|1|*", "734|1|*users", "|1|user:1",
    ])
    func malformedPayloadsAreRefused(_ payload: String) {
        #expect(NotifyPayload.parse(payload) == nil)
    }
}
