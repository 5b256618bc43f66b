@testable import Gateway
import CacheModel
@testable import Invalidation
import Postgres
import Testing

/// How the listener turns the stream's records into committed writes (pure).
@Suite struct InvalidationTransactionsTests {
    private let commitTime: Int64 = 786_000_000_000_000  // µs since 2000-01-01
    private func message(_ text: String, prefix: String = "quicksell_invalidation", transactional: Bool = true) -> PgOutputMessage {
        .message(transactional: transactional, lsn: 1, prefix: prefix, content: Array(text.utf8))
    }

    @Test func aTransactionsMessagesCompleteAtItsCommitWithItsCommitTime() {
        var transactions = InvalidationTransactions()
        #expect(transactions.receive(.begin(finalLSN: 100, commitTime: commitTime, xid: 9)) == nil)
        #expect(transactions.inTransaction)
        #expect(transactions.receive(message("4294967305|user:1,user_stats:1,user_badges:1")) == nil)
        #expect(transactions.receive(message("4294967305|listing:7")) == nil)
        #expect(transactions.receive(message("ignored|other", prefix: "someone_else")) == nil)
        #expect(transactions.receive(.other(UInt8(ascii: "R"))) == nil)
        let committed = commitTime + ReplicationMessage.postgresEpochOffsetMicroseconds
        #expect(transactions.receive(.commit(commitLSN: 100, endLSN: 130, commitTime: commitTime)) == .init(
            writes: [
                InvalidationWrite(keys: ["user:1", "user_stats:1", "user_badges:1"], transactionID: "4294967305",
                                  committedMicroseconds: committed),
                InvalidationWrite(keys: ["listing:7"], transactionID: "4294967305", committedMicroseconds: committed),
            ],
            endLSN: 130))
        #expect(!transactions.inTransaction)
    }

    @Test func aTransactionWithoutOurMessagesStillCompletesSoItsPositionCanBeConfirmed() {
        var transactions = InvalidationTransactions()
        _ = transactions.receive(.begin(finalLSN: 5, commitTime: commitTime, xid: 3))
        #expect(transactions.receive(.commit(commitLSN: 5, endLSN: 6, commitTime: commitTime)) == .init(writes: [], endLSN: 6))
    }

    @Test func malformedContentIsSetAsideForTheLogAndTheRestIsApplied() {
        var transactions = InvalidationTransactions()
        _ = transactions.receive(.begin(finalLSN: 5, commitTime: commitTime, xid: 3))
        _ = transactions.receive(message("no bar here"))
        _ = transactions.receive(message("12x|user:1"))
        _ = transactions.receive(message("|user:1"))
        _ = transactions.receive(message("12|user:2"))
        let completed = transactions.receive(.commit(commitLSN: 5, endLSN: 6, commitTime: commitTime))
        #expect(completed?.writes.map(\.keys) == [["user:2"]])
        #expect(transactions.takeMalformed() == ["no bar here", "12x|user:1", "|user:1"])
        #expect(transactions.takeMalformed().isEmpty)
    }

    @Test func aMessageOutsideATransactionIsAppliedAtOnceWithoutAPosition() {
        var transactions = InvalidationTransactions()
        #expect(transactions.receive(message("12|user:3", transactional: false))
            == .init(writes: [InvalidationWrite(keys: ["user:3"], transactionID: "12", committedMicroseconds: nil)], endLSN: nil))
    }

    @Test func aTransactionPastTheThresholdKeepsOnlyItsFamiliesAndWriters() {
        var transactions = InvalidationTransactions(flushAboveKeys: 3)
        _ = transactions.receive(.begin(finalLSN: 5, commitTime: commitTime, xid: 3))
        _ = transactions.receive(message("12|user:1,user_stats:1"))
        _ = transactions.receive(message("12|listing:1,marketplace_listings:1"))
        _ = transactions.receive(message("12|leaderboard:weekly,not a key"))
        let completed = transactions.receive(.commit(commitLSN: 5, endLSN: 6, commitTime: commitTime))
        #expect(completed == .init(writes: [], endLSN: 6, flush: FamilyFlush(
            families: [.user, .userStats, .listing, .marketplaceListings, .leaderboardWeekly], transactionIDs: ["12"])))
        #expect(transactions.takeCompletedMessages() == 3)

        _ = transactions.receive(.begin(finalLSN: 7, commitTime: commitTime, xid: 4))
        _ = transactions.receive(message("13|user:1,user:2,user:3"))
        let atTheThreshold = transactions.receive(.commit(commitLSN: 7, endLSN: 8, commitTime: commitTime))
        #expect(atTheThreshold?.flush == nil && atTheThreshold?.writes.count == 1, "3 keys do not pass a threshold of 3")
    }

    @Test func pastTheThresholdFamiliesAreReadFromTheBytesOfEachMessage() {
        var transactions = InvalidationTransactions(flushAboveKeys: 1)
        _ = transactions.receive(.begin(finalLSN: 5, commitTime: commitTime, xid: 3))
        _ = transactions.receive(message("12|listing:1,listing:2"))
        // Past the threshold: only prefixes that are families count, and only whole leaderboard names.
        _ = transactions.receive(message("12|user_stats:9,leaderboard:monthly,leaderboard:daily,listing,:5,userx:1"))
        _ = transactions.receive(message("x|user:1"))
        _ = transactions.receive(message("12|"))
        let completed = transactions.receive(.commit(commitLSN: 5, endLSN: 6, commitTime: commitTime))
        #expect(completed?.flush == FamilyFlush(families: [.listing, .userStats, .leaderboardMonthly], transactionIDs: ["12"]))
        #expect(transactions.takeMalformed() == ["x|user:1"])
        #expect(transactions.takeCompletedMessages() == 3)
    }

    @Test func slotNamesAndPositions() {
        #expect(ReplicationSlot.isValidName("quicksell_gw_1"))
        for bad in ["", "Upper", "with-dash", "dot.ted", String(repeating: "a", count: 64)] {
            #expect(!ReplicationSlot.isValidName(bad), "accepted '\(bad)'")
        }
        #expect(ReplicationSlot.defaultName(host: "Web-01.example.com", port: 6380) == "quicksell_web_01_example_com_6380")
        let long = ReplicationSlot.defaultName(host: String(repeating: "h", count: 100), port: 6380)
        #expect(long.utf8.count == 63 && long.hasSuffix("_6380") && ReplicationSlot.isValidName(long))
        #expect(InvalidationListener.parseLSN("16/B374D848") == 0x16_B374_D848)
        #expect(InvalidationListener.parseLSN("0/0") == 0)
        #expect(InvalidationListener.parseLSN("16B374D848") == nil)
        #expect(InvalidationListener.parseLSN("x/1") == nil)
        var status = ListenerStatus()
        status.confirmedPosition = 0x16_B374_D848
        #expect(status.confirmedPositionText == "16/B374D848")
        #expect(InvalidationListener.parseLSN(status.confirmedPositionText) == status.confirmedPosition)
    }
}
