import Foundation
import Postgres

/// The analytics policy: events of every month entirely older than a year
/// (`retention_analytics_cutoff()`) are exported to one CSV.gz file per month, the file is read
/// back and its records counted against the ids the export recorded in the same snapshot, the
/// export and those ids are committed (`retention_analytics_exports`,
/// `retention_analytics_exported_ids`), and only then are exactly those events deleted in
/// batches (`retention_delete_exported_analytics`), each a short transaction. An event that
/// commits after the export's snapshot, whatever its id, is in no file and waits for the next run.
///
/// Resumable: an export recorded but not fully deleted is finished first, without exporting
/// again; an export not committed left nothing behind but maybe its file, which the next
/// export of the month (same name) overwrites.
struct AnalyticsArchiver {
    let connection: PostgresConnection
    let directory: String
    let batchSize: Int
    let log: (String) -> Void

    private struct Export {
        let id: String
        let file: String
    }

    func run(dryRun: Bool) throws -> PolicyReport {
        var report = PolicyReport(.analytics, counts: ["months", "events_exported", "events_deleted"])
        if dryRun {
            let months = try pendingMonths()
            report.add("months", months.count)
            report.add("events_exported", months.reduce(0) { $0 + (Int($1[1] ?? "") ?? 0) })
            report.add("events_deleted", report.count("events_exported") + (try connection.execute(
                "SELECT count(*) FROM retention_analytics_exported_ids").scalarInt()))
            return report
        }
        // First, exports whose deletion a crash or an error interrupted.
        let unfinished = try connection.execute(
            "SELECT id, file_name FROM retention_analytics_exports WHERE deleted_at IS NULL ORDER BY id").rows
        for row in unfinished {
            guard let id = row[0], let file = row[1] else { continue }
            log("analytics: resuming the deletion of \(file)")
            try delete(Export(id: id, file: file), into: &report)
        }
        for row in try pendingMonths() {
            guard let month = row[0], let export = try exportMonth(month, report: &report) else { continue }
            try delete(export, into: &report)
        }
        return report
    }

    /// (first day, events) of each month with events before the cutoff that no export holds yet, oldest first.
    private func pendingMonths() throws -> [[String?]] {
        try connection.execute("""
            SELECT to_char(date_trunc('month', a.created_at), 'YYYY-MM-DD'), count(*) FROM analytics_events a
            WHERE a.created_at < retention_analytics_cutoff()
              AND NOT EXISTS (SELECT 1 FROM retention_analytics_exported_ids x WHERE x.event_id = a.id)
            GROUP BY 1 ORDER BY 1
            """).rows
    }

    /// Records the ids of the month's events no export holds, writes those events to the month's
    /// next file, verifies it and commits both; nil when the snapshot finds none.
    private func exportMonth(_ month: String, report: inout PolicyReport) throws -> Export? {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // The ids, the copy and the count read one snapshot; ids and export commit together, after the check.
        try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        var partial: String?
        do {
            let earlier = try connection.query("SELECT count(*) FROM retention_analytics_exports WHERE month = $1::date", [month])
                .scalarInt()
            // One file per month; events of a month already exported that arrived later get the next part.
            let name = "analytics_events-\(month.prefix(7))" + (earlier == 0 ? "" : "-part-\(earlier + 1)") + ".csv.gz"
            let path = (directory as NSString).appendingPathComponent(name)
            let id = try connection.query("""
                INSERT INTO retention_analytics_exports (month, file_name, row_count) VALUES ($1::date, $2, 0) RETURNING id
                """, [month, path]).scalarInt()
            let expected = try connection.query("""
                INSERT INTO retention_analytics_exported_ids (export_id, event_id)
                SELECT $1, a.id FROM analytics_events a
                WHERE a.created_at >= $2::date AND a.created_at < $2::date + interval '1 month'
                  AND NOT EXISTS (SELECT 1 FROM retention_analytics_exported_ids x WHERE x.event_id = a.id)
                """, [String(id), month]).affectedRows
            if expected == 0 {
                try connection.execute("ROLLBACK")
                return nil
            }
            partial = path + ".partial"
            let writer = try GzipWriter(path: path + ".partial")
            // `id` is an integer PostgreSQL returned: safe in COPY's text, which takes no parameters.
            let copied = try connection.copyOut("""
                COPY (SELECT a.* FROM analytics_events a JOIN retention_analytics_exported_ids x ON x.event_id = a.id
                      WHERE x.export_id = \(id) ORDER BY a.id) TO STDOUT WITH (FORMAT csv, HEADER)
                """) { try writer.write($0) }
            try writer.finish()
            var counter = CSVRecordCounter()
            try GzipReader.read(path: path + ".partial") { counter.feed($0) }
            let found = counter.total - 1  // the header
            guard found == expected, copied == expected else {
                throw RetentionError.exportMismatch(file: path, expected: expected, found: found)
            }
            try connection.query("UPDATE retention_analytics_exports SET row_count = $2 WHERE id = $1", [String(id), String(expected)])
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            try FileManager.default.moveItem(atPath: path + ".partial", toPath: path)
            partial = nil
            try connection.execute("COMMIT")
            report.add("months", 1)
            report.add("events_exported", expected)
            report.files.append("\(path) (\(expected) events, verified)")
            log("analytics: exported \(expected) events of \(month.prefix(7)) to \(path), read back and counted")
            return Export(id: String(id), file: path)
        } catch {
            _ = try? connection.execute("ROLLBACK")
            if let partial { try? FileManager.default.removeItem(atPath: partial) }
            throw error
        }
    }

    /// Deletes the export's events batch by batch until none of its ids is left (then the export is marked done).
    private func delete(_ export: Export, into report: inout PolicyReport) throws {
        while true {
            let row = try connection.query("SELECT settled, events FROM retention_delete_exported_analytics($1, $2)",
                                           [export.id, String(batchSize)]).rows.first
            guard let settled = row?[0].flatMap({ Int($0) }), let events = row?[1].flatMap({ Int($0) }) else {
                throw RetentionError.unexpectedReply("deleting the events of \(export.file)")
            }
            if settled == 0 { return }
            report.batches += 1
            report.add("events_deleted", events)
        }
    }
}
