import Foundation
import LoadTest
import Synchronization
import Testing

/// `--mode miss-only` must request every key exactly once, however many threads share it.
struct DistinctKeyCursorTests {
    @Test func everyKeyIsHandedOutOnceAcrossThreads() {
        let universe = KeyUniverse(userIDs: Array(1...5_000), listingIDs: Array(1...300))
        let cursor = DistinctKeyCursor(families: [.user, .listing, .leaderboardWeekly], universe: universe)
        #expect(cursor.count == 5_301)
        let collected = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            var mine: [String] = []
            while let entry = cursor.next() { mine.append(entry.key) }
            collected.withLock { $0.append(contentsOf: mine) }
        }
        let keys = collected.withLock { $0 }
        #expect(keys.count == 5_301)
        #expect(Set(keys).count == 5_301)
        #expect(Set(keys).contains("user:5000"))
        #expect(Set(keys).contains("listing:300"))
        #expect(Set(keys).contains("leaderboard:weekly"))
        #expect(cursor.next() == nil)
    }

    @Test func missOnlyRefusesWritesAndPreload() {
        var options = RunOptions(postgresURL: "x", mode: .missOnly)
        #expect((try? options.validate()) != nil)
        options.writeRate = 10
        #expect(throws: RunError.self) { try options.validate() }
        options.writeRate = 0
        options.preload = true
        #expect(throws: RunError.self) { try options.validate() }
        #expect(RunOptions.Mode(rawValue: "miss-only") == .missOnly)
    }
}
