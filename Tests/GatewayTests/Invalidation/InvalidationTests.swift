import CacheModel
import Foundation
import Gateway
import Invalidation
import Postgres
import Synchronization
import Testing
import TestSupport

/// Every write that changes a cached value is followed, within a second, by reads of
/// the new value: one test per mapping of DESIGN.md / migration 009, each on the test
/// server and on a PostgreSQL with its default settings (where `auto` picks notify).
@Suite struct InvalidationMappingTests {
    /// Reads `key` twice (a hit), runs `write`, then polls until `key` satisfies `fresh`
    /// (deadline `TimeBounds.invalidation` after the commit).
    private func expectInvalidation(
        _ harness: GatewayHarness, _ key: String, write: String,
        fresh: (RedisTestClient.Reply) -> Bool, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let client = try harness.client()
        let before = try client.command("GET", key)
        #expect(try client.command("GET", key) == before, sourceLocation: sourceLocation)
        #expect(!fresh(before), "the value already looks written before the write: \(before)", sourceLocation: sourceLocation)
        try harness.database.connect().execute(write)
        let ok = try await eventually(seconds: TimeBounds.invalidation) { fresh(try client.command("GET", key)) }
        #expect(ok, "\(key) still old \(TimeBounds.invalidation) s after: \(write)", sourceLocation: sourceLocation)
    }

    private func contains(_ text: String) -> (RedisTestClient.Reply) -> Bool {
        { $0.string?.contains(text) == true }
    }

    @Test(arguments: PostgresKind.allCases) func listingWriteInvalidatesListingAndItsMarketplaceCopies(postgres: PostgresKind) async throws {
        let harness = try await GatewayHarness(label: "inv_listing", postgres: postgres, setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        try await harness.waitForListener()
        try await expectInvalidation(harness, "listing:10", write: "UPDATE listings SET title = 'Brass lamp' WHERE id = 10",
                                     fresh: contains("Brass lamp"))
        try await expectInvalidation(harness, "marketplace_listings:10",
                                     write: "UPDATE listings SET deleted_at = now() WHERE id = 10",
                                     fresh: { $0 == .null })
        try await expectInvalidation(harness, "listing:12", write: "DELETE FROM listings WHERE id = 12",
                                     fresh: { $0 == .null })
        try await expectInvalidation(harness, "listing:200",
                                     write: """
                                         INSERT INTO listings (id, user_id, title, description, category, condition, price)
                                         VALUES (200, 1, 'Fresh', 'd', 'c', 'new', 1)
                                         """,
                                     fresh: contains("Fresh"))
    }

    @Test(arguments: PostgresKind.allCases) func photoWritesInvalidateTheirListingsOldAndNew(postgres: PostgresKind) async throws {
        let harness = try await GatewayHarness(label: "inv_photo", postgres: postgres, setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        try await harness.waitForListener()
        try await expectInvalidation(harness, "listing:10", write: "UPDATE photos SET display_order = 9 WHERE id = 101",
                                     fresh: contains("\"display_order\": 9"))
        // Moving a photo changes both listings.
        let client = try harness.client()
        _ = try client.command("GET", "listing:12")
        _ = try client.command("GET", "listing:10")
        try harness.database.connect().execute("UPDATE photos SET listing_id = 12 WHERE id = 100")
        #expect(try await eventually(seconds: TimeBounds.invalidation) {
            try client.command("GET", "listing:12").string?.contains("https://img/100.jpg") == true
                && client.command("GET", "listing:10").string?.contains("https://img/100.jpg") == false
        })
        try await expectInvalidation(harness, "listing:12", write: "DELETE FROM photos WHERE id = 100",
                                     fresh: { $0.string?.contains("img/100") == false })
    }

    @Test(arguments: PostgresKind.allCases) func marketplaceCopyWritesInvalidateOldAndNewListings(postgres: PostgresKind) async throws {
        let harness = try await GatewayHarness(label: "inv_market", postgres: postgres, setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        try await harness.waitForListener()
        try await expectInvalidation(harness, "marketplace_listings:10",
                                     write: "UPDATE marketplace_listings SET sync_status = 'sold' WHERE id = 31",
                                     fresh: contains("\"sync_status\": \"sold\""))
        let client = try harness.client()
        _ = try client.command("GET", "marketplace_listings:12")
        _ = try client.command("GET", "marketplace_listings:10")
        try harness.database.connect().execute("UPDATE marketplace_listings SET listing_id = 12 WHERE id = 30")
        #expect(try await eventually(seconds: TimeBounds.invalidation) {
            try client.command("GET", "marketplace_listings:12").string?.contains("EB-1") == true
                && client.command("GET", "marketplace_listings:10").string?.contains("EB-1") == false
        })
    }

    @Test(arguments: PostgresKind.allCases) func userWritesInvalidateTheUser(postgres: PostgresKind) async throws {
        let harness = try await GatewayHarness(label: "inv_user", postgres: postgres, setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        try await harness.waitForListener()
        try await expectInvalidation(harness, "user:1", write: "UPDATE users SET bio = 'new bio' WHERE id = 1",
                                     fresh: contains("new bio"))
        try await expectInvalidation(harness, "user:2", write: "UPDATE users SET account_status = 'deleted' WHERE id = 2",
                                     fresh: { $0 == .null })
        try await expectInvalidation(harness, "user_stats:1", write: "UPDATE users SET deleted_at = now() WHERE id = 1",
                                     fresh: { $0 == .null })
    }

    @Test(arguments: PostgresKind.allCases) func aUserUpdateThatChangesNoStatusKeepsTheUsersStatsAndBadgesCached(postgres: PostgresKind) async throws {
        let harness = try await GatewayHarness(label: "inv_user_precise", postgres: postgres, setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        try await harness.waitForListener()
        let client = try harness.client()
        for key in ["user_stats:1", "user_badges:1"] { _ = try client.command("GET", key) }
        let fillsBefore = [try harness.familyCounters(.userStats)["fills"], try harness.familyCounters(.userBadges)["fills"]]
        try await expectInvalidation(harness, "user:1", write: "UPDATE users SET points = points + 5, bio = 'busy' WHERE id = 1",
                                     fresh: contains("busy"))
        // user:1 is gone and filled again; the two values that read only the user's status are
        // still cached: reading them fills nothing (works on a single Redis and on a cluster).
        for key in ["user_stats:1", "user_badges:1"] { _ = try client.command("GET", key) }
        #expect([try harness.familyCounters(.userStats)["fills"], try harness.familyCounters(.userBadges)["fills"]] == fillsBefore)
        try await expectInvalidation(harness, "user_badges:1", write: "UPDATE users SET account_status = 'deleted' WHERE id = 1",
                                     fresh: { $0 == .null })
    }

    @Test(arguments: PostgresKind.allCases) func rankedUserChangesInvalidateTheLeaderboards(postgres: PostgresKind) async throws {
        let harness = try await GatewayHarness(label: "inv_user_rank", postgres: postgres, setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        try await harness.waitForListener()
        try await expectInvalidation(harness, "leaderboard:weekly", write: "UPDATE users SET username = 'heidi2' WHERE id = 8",
                                     fresh: contains("heidi2"))
        try await expectInvalidation(harness, "leaderboard:weekly",
                                     write: "UPDATE users SET account_status = 'suspended' WHERE id = 8",
                                     fresh: { $0.string?.contains("\"user_id\": 8,") == false })
    }

    @Test(arguments: PostgresKind.allCases) func statsAndBadgesWritesInvalidateTheirKeys(postgres: PostgresKind) async throws {
        let harness = try await GatewayHarness(label: "inv_stats", postgres: postgres, setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        try await harness.waitForListener()
        try await expectInvalidation(harness, "user_stats:1", write: "UPDATE user_stats SET total_points = 777 WHERE user_id = 1",
                                     fresh: contains("\"total_points\": 777"))
        try await expectInvalidation(harness, "user_badges:1", write: "DELETE FROM user_badges WHERE user_id = 1 AND badge_id = 40",
                                     fresh: { $0.string?.contains("first_sale") == false })
        try await expectInvalidation(harness, "user_badges:5",
                                     write: "INSERT INTO user_badges (user_id, badge_id) VALUES (5, 41)",
                                     fresh: contains("power_seller"))
        // A badge changes every holder's list.
        let client = try harness.client()
        _ = try client.command("GET", "user_badges:1")
        try await expectInvalidation(harness, "user_badges:5",
                                     write: "UPDATE badges SET badge_name = 'Mega Seller' WHERE id = 41",
                                     fresh: contains("Mega Seller"))
        #expect(try await eventually(seconds: TimeBounds.invalidation) {
            try client.command("GET", "user_badges:1").string?.contains("Mega Seller") == true
        })
    }

    @Test(arguments: PostgresKind.allCases) func salesInvalidateTheLeaderboardsOfTheirPeriods(postgres: PostgresKind) async throws {
        let harness = try await GatewayHarness(label: "inv_sales", postgres: postgres, setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        try await harness.waitForListener()
        try await expectInvalidation(harness, "leaderboard:weekly", write: """
            INSERT INTO sales (listing_id, seller_id, sale_price, status, sale_date)
            VALUES (52, 5, 5000.00, 'completed', now() AT TIME ZONE 'UTC')
            """, fresh: contains("\"revenue\": 5000.00, \"user_id\": 5"))
        // Erin's month holds the new sale (and, when the week started inside this month, an earlier one).
        try await expectInvalidation(harness, "leaderboard:monthly",
                                     write: "UPDATE sales SET status = 'refunded' WHERE sale_price = 5000.00",
                                     fresh: { reply in
                                         let text = reply.string ?? ""
                                         return !text.contains("5000.00, \"user_id\": 5,")
                                             && !text.contains("5500.00, \"user_id\": 5,")
                                     })
    }

    @Test(arguments: PostgresKind.allCases) func leaderboardInvalidationsAreCoalescedWhenConfigured(postgres: PostgresKind) async throws {
        let harness = try await GatewayHarness(
            label: "inv_coalesce", invalidation: InvalidationSettings(leaderboardIntervalSeconds: 4), postgres: postgres,
            setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        try await harness.waitForListener()
        let client = try harness.client()
        _ = try client.command("GET", "leaderboard:weekly")
        let connection = try harness.database.connect()
        // The first invalidation goes through at once; the next ones wait for the interval.
        try connection.execute("UPDATE users SET username = 'first' WHERE id = 8")
        #expect(try await eventually(seconds: TimeBounds.invalidation) { try client.command("GET", "leaderboard:weekly").string?.contains("first") == true })
        let firstSeen = Date()
        try connection.execute("UPDATE users SET username = 'second' WHERE id = 8")
        try await Task.sleep(for: .milliseconds(300))
        let stillFirst = try client.command("GET", "leaderboard:weekly").string?.contains("first") == true
        if Date().timeIntervalSince(firstSeen) < 3 {
            #expect(stillFirst, "the second leaderboard invalidation was not held back")
        }
        #expect(try await eventually(seconds: 6) { try client.command("GET", "leaderboard:weekly").string?.contains("second") == true })
    }
}

/// Polls `condition` every 10 ms until it holds or `seconds` pass.
func eventually(seconds: Double, _ condition: () throws -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    repeat {
        if try condition() { return true }
        try await Task.sleep(for: .milliseconds(10))
    } while Date() < deadline
    return try condition()
}
