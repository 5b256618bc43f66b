import Foundation
import LoadTest
import Postgres
import Retention
import Testing
import TestSupport

/// Issue 25, item 1: the retention policies on seeded data with backdated rows, on the real
/// test PostgreSQL: what moves, what is removed, what is exported and verified, what stays
/// (sales above all), and that a second run finds nothing to do.
@Suite(.serialized) struct RetentionTests {
    /// A seeded database with listings deleted 100, 40 and 1 day(s) ago, deleted listings that
    /// were sold, and analytics events in three months older than a year (awkward CSV inside).
    private struct Backdated {
        var longGone: [Int] = []     // deleted 100 days ago: archived and purged in one run
        var monthGone: [Int] = []    // deleted 40 days ago: archived, photos removed
        var justGone: [Int] = []     // deleted yesterday: archived with their photos
        var sold: [Int] = []         // deleted 100 days ago but sold: stay in listings
        var oldEvents: Int = 0       // events before the cutoff, all months
        var oldMonths: Int = 0
    }

    private static func ids(_ connection: PostgresConnection, _ sql: String) throws -> [Int] {
        try connection.execute(sql).rows.compactMap { $0[0].flatMap { Int($0) } }
    }

    private static func prepare(_ connection: PostgresConnection) throws -> Backdated {
        _ = try Seeder(connection: connection, options: SeedOptions(
            users: 150, seed: 25, referenceTime: Int64(Date().timeIntervalSince1970))).run()
        var rows = Backdated()
        // Live listings that nothing keeps: no sale, no analytics event; with photos.
        let free = try ids(connection, """
            SELECT l.id FROM listings l WHERE l.deleted_at IS NULL
              AND NOT EXISTS (SELECT 1 FROM sales s WHERE s.listing_id = l.id)
              AND NOT EXISTS (SELECT 1 FROM analytics_events a WHERE a.listing_id = l.id)
              AND EXISTS (SELECT 1 FROM photos p WHERE p.listing_id = l.id)
            ORDER BY l.id LIMIT 30
            """)
        try #require(free.count == 30, "the seed has too few free listings: \(free.count)")
        rows.longGone = Array(free[0..<10])
        rows.monthGone = Array(free[10..<20])
        rows.justGone = Array(free[20..<30])
        rows.sold = try ids(connection, "SELECT DISTINCT listing_id FROM sales ORDER BY 1 LIMIT 3")
        try #require(rows.sold.count == 3)
        for (group, age) in [(rows.longGone + rows.sold, 100), (rows.monthGone, 40), (rows.justGone, 1)] {
            try connection.execute("""
                UPDATE listings SET deleted_at = LOCALTIMESTAMP - interval '\(age) days'
                WHERE id IN (\(group.map(String.init).joined(separator: ",")))
                """)
        }
        // Events in the three months before the cutoff, with quotes, commas and newlines.
        try connection.execute("""
            INSERT INTO analytics_events (user_id, event_type, event_name, listing_id, event_data, user_agent, created_at)
            SELECT 1 + g % 100, 'view', 'listing "viewed", twice', NULL, '{"note": "a\\nb"}',
                   E'Agent\\nwith a newline, and "quotes"', retention_analytics_cutoff() - (1 + g % 80) * interval '1 day'
            FROM generate_series(1, 300) AS g
            """)
        rows.oldEvents = try connection.execute(
            "SELECT count(*) FROM analytics_events WHERE created_at < retention_analytics_cutoff()").scalarInt()
        rows.oldMonths = try connection.execute("""
            SELECT count(DISTINCT date_trunc('month', created_at)) FROM analytics_events
            WHERE created_at < retention_analytics_cutoff()
            """).scalarInt()
        // Any statement on sales, even one changing no row, is recorded.
        try connection.execute("""
            CREATE TABLE sales_statements (at timestamptz DEFAULT clock_timestamp(), op text);
            CREATE FUNCTION record_sales_statement() RETURNS trigger LANGUAGE plpgsql AS $$
              BEGIN INSERT INTO sales_statements (op) VALUES (TG_OP); RETURN NULL; END $$;
            CREATE TRIGGER record_sales_statements AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON sales
              FOR EACH STATEMENT EXECUTE FUNCTION record_sales_statement();
            """)
        return rows
    }

    private static func salesFingerprint(_ connection: PostgresConnection) throws -> String {
        try connection.execute("SELECT count(*) || ':' || md5(string_agg(s::text, '|' ORDER BY s.id)) FROM sales s").scalar ?? ""
    }

    private static func tableCounts(_ connection: PostgresConnection) throws -> [String] {
        try connection.execute("""
            SELECT (SELECT count(*) FROM listings), (SELECT count(*) FROM photos), (SELECT count(*) FROM analytics_events),
                   (SELECT count(*) FROM listings_archive), (SELECT count(*) FROM photos_archive),
                   (SELECT count(*) FROM retention_photo_urls)
            """).rows[0].map { $0 ?? "NULL" }
    }

    private static func urls(_ connection: PostgresConnection, ofListings ids: [Int]) throws -> Set<String> {
        Set(try connection.execute("""
            SELECT u FROM photos p, unnest(ARRAY[p.original_url, p.thumb_url, p.optimized_url]) AS u
            WHERE u IS NOT NULL AND p.listing_id IN (\(ids.map(String.init).joined(separator: ",")))
            """).rows.compactMap { $0[0] })
    }

    private static func inList(_ ids: [Int]) -> String { "(\(ids.map(String.init).joined(separator: ",")))" }

    @Test func theJobsMoveRemoveAndExportWhatThePoliciesSayAndNeverTouchSales() throws {
        let database = try TestDatabase(label: "retention_policies")
        defer { database.drop() }
        let connection = try database.connect()
        let rows = try Self.prepare(connection)
        let folder = NSTemporaryDirectory() + "qs-retention-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let sales = try Self.salesFingerprint(connection)
        let removedURLs = try Self.urls(connection, ofListings: rows.longGone + rows.monthGone + rows.sold)
        let archivedPhotos = try connection.execute("SELECT count(*) FROM photos WHERE listing_id IN \(Self.inList(rows.justGone))").scalarInt()
        #expect(!removedURLs.isEmpty && archivedPhotos > 0)

        // A dry run counts and changes nothing.
        let before = try Self.tableCounts(connection)
        let dry = try RetentionRunner(connection: connection, settings: .init(directory: folder, dryRun: true)).run()
        #expect(try Self.tableCounts(connection) == before)
        #expect(!FileManager.default.fileExists(atPath: folder))
        #expect(dry.report(.analytics)?.count("events_exported") == rows.oldEvents)
        let dryMoved = dry.report(.deletedListings)?.count("listings") ?? -1
        #expect(dryMoved >= 30, "\(String(describing: dry.report(.deletedListings)))")

        var lines: [String] = []
        let outcome = try RetentionRunner(connection: connection, settings: .init(directory: folder, batchSize: 7,
                                                                                   analyticsBatchSize: 40)) { lines.append($0) }.run()

        // Deleted listings: all moved (batches of 7); the sold ones stay, deleted, in listings.
        let moved = try #require(outcome.report(.deletedListings))
        // (At least the dry run's: deleting old events can free listings only they named.)
        #expect(moved.count("listings") >= dryMoved)
        #expect(moved.batches == (moved.count("listings") + 6) / 7)
        #expect(moved.count("kept_for_sales") >= 3)
        #expect(try connection.execute("SELECT count(*) FROM listings WHERE id IN \(Self.inList(rows.sold)) AND deleted_at IS NOT NULL")
            .scalarInt() == 3)
        #expect(try connection.execute("""
            SELECT count(*) FROM listings WHERE id IN \(Self.inList(rows.longGone + rows.monthGone + rows.justGone))
            """).scalarInt() == 0)
        // Archived: deleted within 90 days, with their marketplace copies; yesterday's keep their photos.
        #expect(try connection.execute("SELECT count(*) FROM listings_archive WHERE id IN \(Self.inList(rows.monthGone + rows.justGone))")
            .scalarInt() == 20)
        #expect(try connection.execute("SELECT count(*) FROM photos_archive WHERE listing_id IN \(Self.inList(rows.justGone))")
            .scalarInt() == archivedPhotos)
        // Purged: deleted over 90 days ago, archive and all.
        #expect(try connection.execute("SELECT count(*) FROM listings_archive WHERE id IN \(Self.inList(rows.longGone))").scalarInt() == 0)
        #expect(try connection.execute("SELECT count(*) FROM listings_archive WHERE deleted_at < LOCALTIMESTAMP - interval '90 days'")
            .scalarInt() == 0)
        #expect((outcome.report(.listingArchive)?.count("listings") ?? 0) >= 10)
        // Unused photos: gone from both tables, every URL written out once the queue is empty.
        #expect(try connection.execute("""
            SELECT (SELECT count(*) FROM photos WHERE listing_id IN \(Self.inList(rows.longGone + rows.monthGone + rows.sold)))
                 + (SELECT count(*) FROM photos_archive WHERE listing_id IN \(Self.inList(rows.longGone + rows.monthGone)))
            """).scalarInt() == 0)
        #expect(try connection.execute("SELECT count(*) FROM retention_photo_urls").scalarInt() == 0)
        let urlFile = try #require(outcome.photoURLFile)
        let written = try String(contentsOfFile: urlFile, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(removedURLs.isSubset(of: Set(written)), "missing: \(removedURLs.subtracting(written).prefix(3))")
        #expect(written.count == outcome.photoURLs)

        // Analytics: one verified file per month, every old event in one, none left in the table.
        let analytics = try #require(outcome.report(.analytics))
        #expect(analytics.count("months") == rows.oldMonths)
        #expect(analytics.count("events_exported") == rows.oldEvents && analytics.count("events_deleted") == rows.oldEvents)
        #expect(analytics.batches >= rows.oldEvents / 40)
        #expect(try connection.execute("SELECT count(*) FROM analytics_events WHERE created_at < retention_analytics_cutoff()")
            .scalarInt() == 0)
        let exports = try connection.execute("SELECT file_name, row_count FROM retention_analytics_exports WHERE deleted_at IS NOT NULL").rows
        #expect(exports.count == rows.oldMonths)
        var total = 0
        for row in exports {
            let file = try #require(row[0])
            #expect(file.hasSuffix(".csv.gz") && file.contains("/analytics/analytics_events-"))
            var counter = CSVLines()
            let text = try Self.gunzip(file)
            counter.count(text)
            #expect(counter.records - 1 == Int(row[1] ?? "") , "\(file)")
            #expect(text.hasPrefix("id,user_id,event_type,"))
            total += counter.records - 1
        }
        #expect(total == rows.oldEvents)

        // Sales: not one statement, not one changed byte.
        #expect(try Self.salesFingerprint(connection) == sales)
        #expect(try connection.execute("SELECT count(*) FROM sales_statements").scalarInt() == 0)
        #expect(try connection.execute("""
            SELECT count(*) FROM sales s WHERE NOT EXISTS (SELECT 1 FROM listings l WHERE l.id = s.listing_id)
            """).scalarInt() == 0)
        // Logged, batch by batch, in the database too.
        #expect(lines.contains { $0.hasPrefix("deleted_listings: batch 1:") })
        #expect(try connection.execute("SELECT count(DISTINCT policy) FROM retention_log").scalarInt() == 4)

        // Idempotent: a second run finds nothing and writes no file.
        let files = try FileManager.default.subpathsOfDirectory(atPath: folder).sorted()
        let again = try RetentionRunner(connection: connection, settings: .init(directory: folder)).run()
        for report in again.policies {
            let changed = report.counts.filter { !$0.name.hasPrefix("kept_") && $0.value != 0 }
            #expect(changed.isEmpty && report.batches == 0, "\(report.line(dryRun: false))")
        }
        #expect(again.photoURLs == 0 && again.photoURLFile == nil)
        #expect(try FileManager.default.subpathsOfDirectory(atPath: folder).sorted() == files)
    }

    /// Events of an exported month that arrive late go to a file of their own; an export whose
    /// deletion was interrupted is finished, not exported again; no deletion without a recorded export.
    @Test func lateEventsAndAnInterruptedDeletionAreHandled() throws {
        let database = try TestDatabase(label: "retention_resume")
        defer { database.drop() }
        let connection = try database.connect()
        try Fixtures.load(connection)
        let folder = NSTemporaryDirectory() + "qs-retention-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let insert = """
            INSERT INTO analytics_events (user_id, event_type, created_at)
            SELECT 1, 'view', retention_analytics_cutoff() - interval '3 days' FROM generate_series(1, $1::int)
            """
        try connection.query(insert, ["50"])
        let first = try RetentionRunner(connection: connection, settings: .init(directory: folder)).run()
        #expect(first.report(.analytics)?.count("events_exported") == 50)

        // Late events of the same month: a second file, the month's part 2.
        try connection.query(insert, ["5"])
        let second = try RetentionRunner(connection: connection, settings: .init(directory: folder)).run()
        let report = try #require(second.report(.analytics))
        #expect(report.count("events_exported") == 5 && report.files.count == 1)
        #expect(report.files.first?.contains("-part-2.csv.gz") == true, "\(report.files)")

        // An interrupted deletion: the export and its ids are recorded, its events still there.
        try connection.query(insert, ["7"])
        #expect(throws: PostgresError.self) {
            try connection.query("SELECT * FROM retention_delete_exported_analytics(999999)")
        }
        try connection.execute("""
            WITH export AS (INSERT INTO retention_analytics_exports (month, file_name, row_count)
                            VALUES (date_trunc('month', retention_analytics_cutoff() - interval '3 days'), 'made-by-test.csv.gz', 6)
                            RETURNING id)
            INSERT INTO retention_analytics_exported_ids (export_id, event_id)
            SELECT export.id, a.id FROM export, analytics_events a ORDER BY a.id LIMIT 6
            """)
        let third = try RetentionRunner(connection: connection, settings: .init(directory: folder)).run()
        let resumed = try #require(third.report(.analytics))
        // The six recorded ones are deleted without an export; the seventh, recorded by none, is exported first.
        #expect(resumed.count("events_deleted") == 7 && resumed.count("events_exported") == 1, "\(resumed.line(dryRun: false))")
        #expect(resumed.files.first?.contains("-part-4.csv.gz") == true, "\(resumed.files)")
        // Nothing unfinished, no id left recorded, no event left.
        #expect(try connection.execute("""
            SELECT (SELECT count(*) FROM retention_analytics_exports WHERE deleted_at IS NULL),
                   (SELECT count(*) FROM retention_analytics_exported_ids), (SELECT count(*) FROM analytics_events)
            """).rows.first == ["0", "0", "0"])
    }

    /// The gap of an id bound: an event inserted (low id, a year old) by a transaction still open
    /// when the export takes its snapshot, committed before the deletion, is in no file. It must
    /// survive the deletion and leave with the next run, in a file of its own.
    @Test func anEventCommittedAfterTheExportsSnapshotSurvivesAndIsExportedNextRun() throws {
        let database = try TestDatabase(label: "retention_late_commit")
        defer { database.drop() }
        let connection = try database.connect()
        let late = try database.connect()
        try Fixtures.load(connection)
        let folder = NSTemporaryDirectory() + "qs-retention-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let old = "retention_analytics_cutoff() - interval '3 days'"
        // The late transaction takes its id first, then 20 events with higher ids commit.
        try late.execute("BEGIN")
        let lateID = try late.execute("""
            INSERT INTO analytics_events (user_id, event_type, event_name, created_at) VALUES (1, 'view', 'late', \(old)) RETURNING id
            """).scalarInt()
        try connection.execute("""
            INSERT INTO analytics_events (user_id, event_type, created_at) SELECT 1, 'view', \(old) FROM generate_series(1, 20)
            """)
        #expect(try connection.execute("SELECT min(id) FROM analytics_events WHERE created_at < retention_analytics_cutoff()")
            .scalarInt() > lateID)

        // It commits once the export is verified and recorded, before the deletion's first batch.
        var committed = false
        let first = try RetentionRunner(connection: try database.connect(), settings: .init(directory: folder, analyticsBatchSize: 7)) { line in
            if !committed && line.hasPrefix("analytics: exported") {
                committed = (try? late.execute("COMMIT")) != nil
            }
        }.run()
        #expect(committed)
        let report = try #require(first.report(.analytics))
        #expect(report.count("events_exported") == 20 && report.count("events_deleted") == 20, "\(report.line(dryRun: false))")
        #expect(try connection.query("SELECT event_name FROM analytics_events WHERE id = $1", [String(lateID)]).scalar == "late")
        let firstFile = try Self.gunzip(try #require(report.files.first.map { String($0.prefix { $0 != " " }) }))
        #expect(!firstFile.contains(",late,"))

        // The next run exports it to a second file, verified, and only then deletes it.
        let second = try #require(try RetentionRunner(connection: connection, settings: .init(directory: folder)).run().report(.analytics))
        #expect(second.count("events_exported") == 1 && second.count("events_deleted") == 1, "\(second.line(dryRun: false))")
        let secondPath = try #require(second.files.first.map { String($0.prefix { $0 != " " }) })
        #expect(secondPath != report.files.first.map { String($0.prefix { $0 != " " }) })
        let secondFile = try Self.gunzip(secondPath)
        #expect(secondFile.contains("\n\(lateID),1,view,late,"), "\(secondFile)")
        #expect(try connection.execute("SELECT count(*) FROM analytics_events WHERE created_at < retention_analytics_cutoff()")
            .scalarInt() == 0)
    }

    /// What pg_cron would `CALL`: the three database-only policies, committing after each batch.
    @Test func theDatabaseOnlyProcedureRunsTheListingPolicies() throws {
        let database = try TestDatabase(label: "retention_procedure")
        defer { database.drop() }
        let connection = try database.connect()
        try Fixtures.load(connection)
        try connection.execute("""
            UPDATE listings SET deleted_at = LOCALTIMESTAMP - interval '40 days' WHERE id = 10;
            UPDATE listings SET deleted_at = LOCALTIMESTAMP - interval '1 day' WHERE id = 12;
            """)
        try connection.execute("CALL retention_run_database_policies(1)")
        // 11 (deleted 2026-01) archived then purged; 10 archived, its photos' URLs queued; 12 archived.
        #expect(try connection.execute("SELECT string_agg(id::text, ',' ORDER BY id) FROM listings_archive").scalar == "10,12")
        #expect(try connection.execute("SELECT count(*) FROM listings WHERE id IN (10, 11, 12)").scalarInt() == 0)
        #expect(try connection.execute("SELECT count(*) FROM photos_archive WHERE listing_id = 10").scalarInt() == 0)
        #expect(try connection.execute("SELECT count(*) FROM retention_photo_urls").scalarInt() == 3)
        #expect(try connection.execute("SELECT count(*) FROM marketplace_listings_archive WHERE listing_id = 10").scalarInt() == 2)
        // One batch of one listing per row of the log: batches were bounded and committed.
        #expect(try connection.execute("SELECT count(*) FROM retention_log WHERE policy = 'deleted_listings'").scalarInt() == 3)
    }

    @Test func oneRunAtATime() throws {
        let database = try TestDatabase(label: "retention_lock")
        defer { database.drop() }
        let holder = try database.connect()
        try holder.query("SELECT pg_advisory_lock(7423110582)")
        #expect {
            try RetentionRunner(connection: try database.connect(), settings: .init(directory: NSTemporaryDirectory())).run()
        } throws: { error in
            (error as? RetentionError).map { "\($0)".contains("another retention run") } ?? false
        }
    }

    private static func gunzip(_ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-dc", path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "gzip -t \(path)")
        return String(decoding: data, as: UTF8.self)
    }
}

/// CSV records counted independently of the module's counter: quoted fields may hold newlines.
private struct CSVLines {
    var records = 0
    mutating func count(_ text: String) {
        var quoted = false
        for character in text.unicodeScalars {
            if character == "\"" { quoted.toggle() }
            if character == "\n" && !quoted { records += 1 }
        }
    }
}
