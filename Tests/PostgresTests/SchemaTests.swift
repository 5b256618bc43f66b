import Postgres
import Testing
import TestSupport

/// The migrated schema holds everything the source document lists, plus the indexes
/// its "Indexing Strategy" asks for, and PostgreSQL enforces its enums.
@Suite struct SchemaTests {
    @Test func everyTableOfTheSourceExistsWithEveryColumn() throws {
        let database = try TestDatabase(label: "schema_tables")
        defer { database.drop() }
        let connection = try database.connect()
        let result = try connection.query("""
            SELECT table_name, column_name FROM information_schema.columns
            WHERE table_schema = 'public'
            """)
        var columns: [String: Set<String>] = [:]
        for row in result.rows {
            guard let table = row[0], let column = row[1] else { continue }
            columns[table, default: []].insert(column)
        }
        #expect(SourceSchema.tables.count == 15)
        for (table, expected) in SourceSchema.tables {
            let actual = try #require(columns[table], "table \(table) is missing")
            let missing = Set(expected).subtracting(actual)
            #expect(missing.isEmpty, "\(table) lacks \(missing.sorted())")
        }
    }

    @Test func bothViewsExistAndAnswer() throws {
        let database = try TestDatabase(label: "schema_views")
        defer { database.drop() }
        let connection = try database.connect()
        for view in SourceSchema.views {
            let kind = try connection.query("SELECT relkind FROM pg_class WHERE relname = $1", [view])
            #expect(kind.scalar == "v", "\(view) is not a view")
            // A view that PostgreSQL can plan and run.
            _ = try connection.execute("SELECT * FROM \(view) LIMIT 1")
        }
    }

    @Test func everyIndexOfTheSourceExistsOnItsTable() throws {
        let database = try TestDatabase(label: "schema_indexes")
        defer { database.drop() }
        let connection = try database.connect()
        let result = try connection.query("SELECT indexname, tablename FROM pg_indexes WHERE schemaname = 'public'")
        var tableOfIndex: [String: String] = [:]
        for row in result.rows {
            if let index = row[0], let table = row[1] { tableOfIndex[index] = table }
        }
        #expect(SourceSchema.indexes.count == 25)
        for (index, table) in SourceSchema.indexes {
            #expect(tableOfIndex[index] == table, "index \(index) on \(table) is missing")
        }
    }

    @Test func theIndexingStrategyIndexesExist() throws {
        let database = try TestDatabase(label: "schema_strategy")
        defer { database.drop() }
        let connection = try database.connect()
        let definitions = try connection.query("SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'")
            .rows.compactMap { $0[0] }

        func has(_ description: String, _ predicate: (String) -> Bool) {
            let found = definitions.contains(where: predicate)
            #expect(found, "no \(description) index")
        }
        has("partial active-listings") {
            $0.contains("ON public.listings") && $0.contains("WHERE") && $0.contains("'published'")
                && $0.contains("deleted_at IS NULL")
        }
        has("listings (user_id, status)") { $0.contains("ON public.listings") && $0.contains("(user_id, status)") }
        has("sales (seller_id, sale_date)") { $0.contains("ON public.sales") && $0.contains("(seller_id, sale_date)") }
        has("marketplace copies by listing") {
            $0.contains("ON public.marketplace_listings") && $0.contains("(listing_id, marketplace_name")
        }
        has("GIN on users.notification_preferences") {
            $0.contains("ON public.users USING gin (notification_preferences")
        }
    }

    @Test func enumColumnsRejectValuesOutsideTheirEnum() throws {
        let database = try TestDatabase(label: "schema_enums")
        defer { database.drop() }
        let connection = try database.connect()
        let enumColumns = try connection.query("""
            SELECT table_name, column_name, udt_name FROM information_schema.columns
            WHERE table_schema = 'public' AND data_type = 'USER-DEFINED'
              AND table_name IN (SELECT table_name FROM information_schema.tables
                                 WHERE table_schema = 'public' AND table_type = 'BASE TABLE')
            ORDER BY 1, 2
            """)
        let names = Set(enumColumns.rows.compactMap { row in row[0].flatMap { t in row[1].map { "\(t).\($0)" } } })
        #expect(names == [
            "users.account_status", "users.theme", "users.subscription_tier",
            "listings.condition", "listings.status", "marketplace_listings.sync_status",
            "sales.status", "badges.badge_tier", "challenges.challenge_type",
            "user_challenges.status", "subscriptions.plan_type", "subscriptions.status",
            // The retention archives (010) copy their live tables' columns.
            "listings_archive.condition", "listings_archive.status", "marketplace_listings_archive.sync_status",
        ])
        for row in enumColumns.rows {
            let type = try #require(row[2])
            #expect(throws: PostgresError.self, "\(type) accepted a bogus value") {
                try connection.query("SELECT $1::\(type)", ["not-a-member"])
            }
        }
        // And through a real row.
        #expect {
            try connection.query("""
                INSERT INTO users (username, email, password_hash, account_status)
                VALUES ('eve', 'eve@example.com', 'x', 'banned')
                """)
        } throws: { error in
            (error as? PostgresError)?.sqlState == "22P02"
        }
        try connection.query("""
            INSERT INTO users (username, email, password_hash, account_status)
            VALUES ('ann', 'ann@example.com', 'x', 'suspended')
            """)
    }

    @Test func updatedAtFollowsEveryChange() throws {
        let database = try TestDatabase(label: "schema_updated_at")
        defer { database.drop() }
        let connection = try database.connect()
        try connection.query("""
            INSERT INTO users (username, email, password_hash, created_at, updated_at)
            VALUES ('bob', 'bob@example.com', 'x', '2000-01-01', '2000-01-01')
            """)
        try connection.query("UPDATE users SET bio = 'hello' WHERE username = 'bob'")
        let after = try connection.query("SELECT updated_at > '2001-01-01' FROM users WHERE username = 'bob'")
        #expect(after.scalar == "t")
        let triggers = try connection.query("""
            SELECT count(DISTINCT c.relname) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
            WHERE NOT t.tgisinternal AND t.tgname LIKE '%updated_at'
            """)
        let tablesWithUpdatedAt = try connection.query("""
            SELECT count(*) FROM information_schema.columns c
            JOIN information_schema.tables t USING (table_schema, table_name)
            WHERE c.table_schema = 'public' AND c.column_name = 'updated_at' AND t.table_type = 'BASE TABLE'
              AND c.table_name NOT LIKE '%\\_archive'  -- 010's archives keep rows as they were archived
            """)
        #expect(try triggers.scalarInt() == tablesWithUpdatedAt.scalarInt())
        #expect(try tablesWithUpdatedAt.scalarInt() == 8)
    }

    @Test func anUnreachableServerIsNamedInTheError() throws {
        #expect {
            _ = try PostgresConnection(url: "postgresql://postgres:secret@127.0.0.1:1/nowhere", connectTimeoutSeconds: 2)
        } throws: { error in
            let text = "\(error)"
            return text.contains("127.0.0.1:1") && !text.contains("secret")
        }
    }
}
