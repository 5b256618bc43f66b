import LoadTest
import Postgres
import Testing
import TestSupport

/// A seeded database holds every table, leaderboard-ready sales and consistent references.
@Suite struct SeedContentTests {
    @Test func fillsEveryTableWithLeaderboardSalesAndWorkingSequences() throws {
        let database = try TestDatabase(label: "seed_content")
        defer { database.drop() }
        let now = SeedFixtures.nowSeconds()
        let outcome = try SeedFixtures.seed(database, users: 1000, referenceTime: now)
        guard case let .seeded(report) = outcome else {
            Issue.record("expected a seeded outcome, got \(outcome)")
            return
        }
        #expect(report.tables.map(\.name) == SeedFixtures.tables)
        let connection = try database.connect()
        for table in SeedFixtures.tables {
            let rows = try SeedFixtures.count(connection, "SELECT count(*) FROM \(table)")
            #expect(rows > 0, "table \(table) is empty")
            #expect(rows == report.rows(of: table), "report disagrees for \(table)")
        }
        #expect(try SeedFixtures.count(connection, "SELECT count(*) FROM users") == 1000)
        #expect(try SeedFixtures.count(connection, "SELECT count(*) FROM user_stats") == 1000)

        // Both leaderboards have completed sales, computed the way the gateway will.
        let inWeek = try SeedFixtures.count(connection, """
            SELECT count(*) FROM sales WHERE status = 'completed'
              AND sale_date >= date_trunc('week', now() AT TIME ZONE 'UTC')
              AND sale_date <= now() AT TIME ZONE 'UTC'
            """)
        let inMonth = try SeedFixtures.count(connection, """
            SELECT count(*) FROM sales WHERE status = 'completed'
              AND sale_date >= date_trunc('month', now() AT TIME ZONE 'UTC')
              AND sale_date <= now() AT TIME ZONE 'UTC'
            """)
        #expect(inWeek >= 1)
        #expect(inMonth >= 1)
        #expect(try SeedFixtures.count(connection,
            "SELECT count(*) FROM sales WHERE sale_date > $1::timestamp", [UTCTime.timestamp(now)]) == 0)

        // Every sequence is past its table's ids: an INSERT without id works.
        for table in SeedFixtures.tables {
            let ahead = try connection.query(
                "SELECT nextval(pg_get_serial_sequence('\(table)', 'id')) > (SELECT max(id) FROM \(table))").scalar
            #expect(ahead == "t", "sequence of \(table) is not past its ids")
        }
        let newBadge = try connection.query("""
            INSERT INTO badges (badge_key, badge_name) VALUES ('test_badge', 'Test') RETURNING id
            """).scalarInt()
        #expect(newBadge > BadgeCount.seeded(connection))
    }

    @Test func referencesAndSecretsAreConsistent() throws {
        let database = try TestDatabase(label: "seed_refs")
        defer { database.drop() }
        try SeedFixtures.seed(database, users: 300, referenceTime: SeedFixtures.nowSeconds())
        let connection = try database.connect()
        let checks: [(String, String)] = [
            ("marketplace copy on a foreign or mismatched account", """
                SELECT count(*) FROM marketplace_listings ml
                JOIN marketplace_accounts ma ON ma.id = ml.marketplace_account_id
                JOIN listings l ON l.id = ml.listing_id
                WHERE ma.user_id <> l.user_id OR ma.marketplace_name <> ml.marketplace_name
                """),
            ("sale whose seller is not the owner, or buys from themself", """
                SELECT count(*) FROM sales s JOIN listings l ON l.id = s.listing_id
                WHERE s.seller_id <> l.user_id OR s.buyer_id = s.seller_id OR l.status <> 'sold'
                """),
            ("listing without exactly one primary photo", """
                SELECT count(*) FROM listings l
                WHERE (SELECT count(*) FROM photos p WHERE p.listing_id = l.id AND p.is_primary) <> 1
                """),
            ("users.total_sales not matching completed sales", """
                SELECT count(*) FROM users u WHERE u.total_sales <>
                  (SELECT count(*) FROM sales s WHERE s.seller_id = u.id AND s.status = 'completed')
                """),
            ("deleted user without deleted_at", """
                SELECT count(*) FROM users WHERE (account_status = 'deleted') <> (deleted_at IS NOT NULL)
                """),
        ]
        for (problem, sql) in checks {
            #expect(try SeedFixtures.count(connection, sql) == 0, "found: \(problem)")
        }
        // Secrets exist, so that the gateway's tests can prove they never leak.
        #expect(try SeedFixtures.count(connection, "SELECT count(*) FROM users WHERE google_id IS NOT NULL") > 0)
        #expect(try SeedFixtures.count(connection, "SELECT count(*) FROM users WHERE facebook_id IS NOT NULL") > 0)
        #expect(try SeedFixtures.count(connection, "SELECT count(*) FROM users WHERE apple_id IS NOT NULL") > 0)
        #expect(try SeedFixtures.count(connection, "SELECT count(*) FROM marketplace_accounts WHERE access_token IS NULL") == 0)
        #expect(try SeedFixtures.count(connection, "SELECT count(*) FROM users WHERE account_status = 'suspended'") > 0)
        #expect(try SeedFixtures.count(connection, "SELECT count(*) FROM listings WHERE deleted_at IS NOT NULL") > 0)
    }

    /// Right after a period starts (here Monday 1 June 2026, 00:00:30 UTC: a new week and a
    /// new month), both leaderboards still have completed sales inside the 30 seconds.
    @Test func periodsThatJustStartedStillHaveSales() throws {
        let database = try TestDatabase(label: "seed_edge")
        defer { database.drop() }
        let reference = "2026-06-01 00:00:30"
        let seconds = try #require(UTCTime.parseISO8601("2026-06-01T00:00:30Z"))
        try SeedFixtures.seed(database, users: 20, referenceTime: seconds)
        let connection = try database.connect()
        for period in ["week", "month"] {
            let count = try SeedFixtures.count(connection, """
                SELECT count(*) FROM sales WHERE status = 'completed'
                  AND sale_date >= date_trunc('\(period)', $1::timestamp) AND sale_date <= $1::timestamp
                """, [reference])
            #expect(count >= 1, "no completed sale in the current \(period)")
        }
    }
}

/// The number of badges the seed writes, read back from the database.
enum BadgeCount {
    static func seeded(_ connection: PostgresConnection) -> Int {
        (try? connection.query("SELECT count(*) FROM badges WHERE badge_key <> 'test_badge'").scalarInt()) ?? Int.max
    }
}
