import Postgres

/// Runs migration 010's listing and photo functions batch after batch, each call its own
/// transaction (autocommit), until a batch finds nothing; a dry run calls each once with
/// `dry_run` and gets every candidate counted.
struct ListingPolicies {
    let connection: PostgresConnection
    let batchSize: Int
    let log: (String) -> Void

    /// The function behind a policy and the names of the counts it returns, in its column order.
    private static func function(of policy: RetentionPolicy) -> (name: String, progress: [String])? {
        switch policy {
        case .deletedListings: return ("retention_archive_deleted_listings", ["listings"])
        case .unusedPhotos: return ("retention_remove_unused_photos", ["photos", "archived_photos"])
        case .listingArchive: return ("retention_purge_listing_archive", ["listings"])
        case .analytics: return nil
        }
    }

    func run(_ policy: RetentionPolicy, dryRun: Bool) throws -> PolicyReport {
        guard let function = Self.function(of: policy) else { preconditionFailure("\(policy) is not a listing policy") }
        var report = PolicyReport(policy, counts: [])
        let sql = "SELECT * FROM \(function.name)($1, $2)"
        if dryRun {
            try add(try connection.query(sql, [String(batchSize), "true"]), to: &report)
            return report
        }
        while true {
            let batch = try counts(of: try connection.query(sql, [String(batchSize), "false"]))
            for (name, _) in batch { report.add(name, 0) }
            let progress = batch.filter { function.progress.contains($0.0) }.reduce(0) { $0 + $1.1 }
            guard progress > 0 else {
                // The last, empty call says what stays, and why (the kept_* counts).
                for (name, value) in batch where name.hasPrefix("kept_") { report.add(name, value) }
                return report
            }
            report.batches += 1
            for (name, value) in batch where !name.hasPrefix("kept_") { report.add(name, value) }
            log("\(policy.rawValue): batch \(report.batches): "
                + batch.filter { !$0.0.hasPrefix("kept_") }.map { "\($0.0)=\($0.1)" }.joined(separator: " "))
        }
    }

    private func add(_ result: QueryResult, to report: inout PolicyReport) throws {
        for (name, value) in try counts(of: result) { report.add(name, value) }
    }

    /// The function's one row as (column, number) pairs.
    private func counts(of result: QueryResult) throws -> [(String, Int)] {
        guard let row = result.rows.first else { throw RetentionError.unexpectedReply("no row from a retention function") }
        return try zip(result.columns, row).map { name, value in
            guard let value, let number = Int(value) else {
                throw RetentionError.unexpectedReply("\(name) is not a count: \(value ?? "NULL")")
            }
            return (name, number)
        }
    }
}
