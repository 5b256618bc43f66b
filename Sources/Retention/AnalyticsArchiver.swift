import Foundation
import Postgres

/// The analytics policy: events of every month entirely older than a year
/// (`retention_analytics_cutoff()`) are exported to one CSV.gz file per month, the file is read
/// back and its records counted against PostgreSQL's count of the same snapshot, the export
/// is recorded (`retention_analytics_exports`), and only then are the events deleted in
/// batches (`retention_delete_exported_analytics`), each a short transaction.
///
/// Resumable: an export recorded but not fully deleted is finished first, without exporting
/// again; an export not yet recorded is simply made again (same rows, same file).
struct AnalyticsArchiver {
    let connection: PostgresConnection
    let directory: String
    let batchSize: Int
    let log: (String) -> Void

    private struct Export {
        let month: String
        let lastID: String
        let file: String
    }

    func run(dryRun: Bool) throws -> PolicyReport {
        var report = PolicyReport(.analytics, counts: ["months", "events_exported", "events_deleted"])
        let months = try pendingMonths()
        if dryRun {
            report.add("months", months.count)
            report.add("events_exported", months.reduce(0) { $0 + (Int($1[1] ?? "") ?? 0) })
            report.add("events_deleted", report.count("events_exported"))
            return report
        }
        // First, exports whose deletion a crash or an error interrupted.
        let unfinished = try connection.execute("""
            SELECT to_char(month, 'YYYY-MM-DD'), last_id, file_name FROM retention_analytics_exports
            WHERE deleted_at IS NULL ORDER BY month, last_id
            """).rows
        for row in unfinished {
            guard let month = row[0], let lastID = row[1], let file = row[2] else { continue }
            log("analytics: resuming the deletion of \(file)")
            try delete(Export(month: month, lastID: lastID, file: file), into: &report)
        }
        let pending = unfinished.isEmpty ? months : try pendingMonths()
        for row in pending {
            guard let month = row[0], let lastID = row[2] else { continue }
            let export = try exportMonth(month, lastID: lastID, report: &report)
            try delete(export, into: &report)
        }
        return report
    }

    /// (first day, events, last id) of each month with events before the cutoff, oldest first.
    private func pendingMonths() throws -> [[String?]] {
        try connection.execute("""
            SELECT to_char(date_trunc('month', created_at), 'YYYY-MM-DD'), count(*), max(id) FROM analytics_events
            WHERE created_at < retention_analytics_cutoff() GROUP BY 1 ORDER BY 1
            """).rows
    }

    /// Writes the month's events up to `lastID` to its file, verifies it and records it.
    private func exportMonth(_ month: String, lastID: String, report: inout PolicyReport) throws -> Export {
        // Both go into SQL text below (COPY takes no parameters): a date and an integer only.
        guard Int(lastID) != nil, month.allSatisfy({ $0.isNumber || $0 == "-" }) else {
            throw RetentionError.unexpectedReply("month \(month), id \(lastID)")
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let earlier = try connection.query("SELECT count(*) FROM retention_analytics_exports WHERE month = $1", [month]).scalarInt()
        // One file per month; events of a month already exported that arrived later get their own.
        let name = "analytics_events-\(month.prefix(7))" + (earlier == 0 ? "" : "-from-\(lastID)") + ".csv.gz"
        let path = (directory as NSString).appendingPathComponent(name)
        let partial = path + ".partial"
        let predicate = "created_at >= '\(month)'::date AND created_at < '\(month)'::date + interval '1 month' AND id <= \(lastID)"

        // The count and the copy read one snapshot, so the file must hold exactly `expected` rows.
        try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        let expected: Int
        let copied: Int
        do {
            expected = try connection.execute("SELECT count(*) FROM analytics_events WHERE \(predicate)").scalarInt()
            let writer = try GzipWriter(path: partial)
            copied = try connection.copyOut(
                "COPY (SELECT * FROM analytics_events WHERE \(predicate) ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)"
            ) { try writer.write($0) }
            try writer.finish()
            try connection.execute("COMMIT")
        } catch {
            _ = try? connection.execute("ROLLBACK")
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
        var counter = CSVRecordCounter()
        try GzipReader.read(path: partial) { counter.feed($0) }
        let found = counter.total - 1  // the header
        guard found == expected, copied == expected else {
            try? FileManager.default.removeItem(atPath: partial)
            throw RetentionError.exportMismatch(file: path, expected: expected, found: found)
        }
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.moveItem(atPath: partial, toPath: path)
        try connection.query("""
            INSERT INTO retention_analytics_exports (month, last_id, file_name, row_count) VALUES ($1, $2, $3, $4)
            """, [month, lastID, path, String(expected)])
        report.add("months", 1)
        report.add("events_exported", expected)
        report.files.append("\(path) (\(expected) events, verified)")
        log("analytics: exported \(expected) events of \(month.prefix(7)) to \(path), read back and counted")
        return Export(month: month, lastID: lastID, file: path)
    }

    /// Deletes the export's events batch by batch until none is left (then the export is marked done).
    private func delete(_ export: Export, into report: inout PolicyReport) throws {
        while true {
            let removed = try connection.query("SELECT retention_delete_exported_analytics($1::date, $2, $3)",
                                               [export.month, export.lastID, String(batchSize)]).scalarInt()
            if removed == 0 { return }
            report.batches += 1
            report.add("events_deleted", removed)
        }
    }
}
