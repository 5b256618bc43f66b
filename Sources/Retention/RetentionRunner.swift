import Foundation
import Postgres

/// One retention run: every policy in `RetentionPolicy` order, then the removed photos' URLs
/// written out. One run at a time per database (an advisory lock); a run that stops part-way
/// leaves only whole batches done, and the next run goes on from there.
public struct RetentionRunner {
    public struct Settings: Sendable {
        /// Where analytics exports (`analytics/`) and removed photos' URL lists (`photo-urls/`) go.
        public var directory: String
        /// Listings or photos per batch (one transaction each). 100 listings' keys (two each) fit
        /// one notification (7,900 bytes), so the notify source unlinks them one by one instead
        /// of flushing both listing families.
        public var batchSize = 100
        /// Analytics events deleted per batch.
        public var analyticsBatchSize = 5_000
        public var dryRun = false

        public init(directory: String, batchSize: Int = 100, analyticsBatchSize: Int = 5_000, dryRun: Bool = false) {
            self.directory = directory
            self.batchSize = batchSize
            self.analyticsBatchSize = analyticsBatchSize
            self.dryRun = dryRun
        }
    }

    public struct Outcome: Sendable {
        public var policies: [PolicyReport] = []
        /// URLs of removed photos written out (or, on a dry run, waiting to be).
        public var photoURLs = 0
        public var photoURLFile: String?

        public func report(_ policy: RetentionPolicy) -> PolicyReport? {
            policies.first { $0.policy == policy }
        }
    }

    private let connection: PostgresConnection
    private let settings: Settings
    private let log: (String) -> Void
    /// An arbitrary, fixed advisory-lock key (the migrator's is 7423110581).
    private static let lockKey = "7423110582"

    public init(connection: PostgresConnection, settings: Settings, log: @escaping (String) -> Void = { _ in }) {
        self.connection = connection
        self.settings = settings
        self.log = log
    }

    public func run() throws -> Outcome {
        guard try connection.execute("SELECT to_regprocedure('retention_purge_listing_archive(integer,boolean,interval)') IS NOT NULL")
            .scalar == "t" else { throw RetentionError.notMigrated }
        guard try connection.query("SELECT pg_try_advisory_lock($1::bigint)", [Self.lockKey]).scalar == "t" else {
            throw RetentionError.alreadyRunning
        }
        defer { _ = try? connection.query("SELECT pg_advisory_unlock($1::bigint)", [Self.lockKey]) }

        var outcome = Outcome()
        let listings = ListingPolicies(connection: connection, batchSize: settings.batchSize, log: log)
        for policy in RetentionPolicy.allCases {
            let report: PolicyReport
            switch policy {
            case .analytics:
                report = try AnalyticsArchiver(
                    connection: connection, directory: (settings.directory as NSString).appendingPathComponent("analytics"),
                    batchSize: settings.analyticsBatchSize, log: log
                ).run(dryRun: settings.dryRun)
            case .deletedListings, .unusedPhotos, .listingArchive:
                report = try listings.run(policy, dryRun: settings.dryRun)
            }
            log(report.line(dryRun: settings.dryRun))
            outcome.policies.append(report)
        }
        let spool = PhotoURLSpool(connection: connection,
                                  directory: (settings.directory as NSString).appendingPathComponent("photo-urls"),
                                  runStamp: Self.stamp(Date()))
        (outcome.photoURLs, outcome.photoURLFile) = try spool.drain(dryRun: settings.dryRun)
        return outcome
    }

    /// `20261208T013000Z`: file names that sort by time.
    static func stamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date)
    }
}
