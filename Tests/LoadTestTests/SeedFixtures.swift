import Foundation
import LoadTest
import Postgres
import TestSupport

/// Shared helpers of the seeder tests: seeding a throwaway database and fingerprinting tables.
enum SeedFixtures {
    static let tables = [
        "users", "user_stats", "badges", "user_badges", "challenges", "user_challenges", "subscriptions",
        "marketplace_accounts", "listings", "listing_versions", "photos", "marketplace_listings", "sales",
        "notifications", "analytics_events",
    ]

    /// The current time, UTC, truncated to the second: what the CLI uses by default.
    static func nowSeconds() -> Int64 {
        Int64(Date().timeIntervalSince1970.rounded(.down))
    }

    @discardableResult
    static func seed(
        _ database: TestDatabase, users: Int, seed: UInt64 = 7, referenceTime: Int64,
        existingData: SeedOptions.ExistingData = .fail
    ) throws -> SeedOutcome {
        let connection = try database.connect()
        let options = SeedOptions(users: users, seed: seed, referenceTime: referenceTime, existingData: existingData)
        return try Seeder(connection: connection, options: options).run()
    }

    /// md5 of a table's rows in id order: equal fingerprints mean byte-identical data.
    static func fingerprint(_ connection: PostgresConnection, _ table: String) throws -> String? {
        try connection.query("SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) FROM \(table) t").scalar
    }

    static func count(_ connection: PostgresConnection, _ sql: String, _ parameters: [String?] = []) throws -> Int {
        try connection.query(sql, parameters).scalarInt()
    }
}
