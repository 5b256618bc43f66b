import ArgumentParser
import Foundation
import Postgres
import Retention

/// `quicksell-cache retention`: the source document's retention policies (migration 010).
struct RetentionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retention",
        abstract: "Run the data retention jobs: archive deleted listings, remove unused photos, export old analytics.",
        subcommands: [RetentionRunCommand.self]
    )
}

/// `quicksell-cache retention run [--dry-run]`: every policy, batch by batch, with a report per policy.
struct RetentionRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Apply every retention policy once, batch by batch, and report what each moved or removed.",
        discussion: """
            The policies, in this order: analytics events of every month entirely older than a year are exported to ARCHIVE-DIR/analytics/analytics_events-YYYY-MM.csv.gz, read back and counted, then exactly the events the file holds are deleted; deleted listings move to the archive tables with their photos, marketplace copies and versions (a listing that a sale or an analytics event names stays, sales are never touched); photos of listings deleted over 30 days ago are removed; archived listings deleted over 90 days ago are removed. Removed photos' storage URLs go to ARCHIVE-DIR/photo-urls/removed-photo-urls-<time>.txt for the object-store cleanup.

            Each batch is one short transaction: a run stopped part-way resumes where it stopped, and a second run finds nothing more to do. One run at a time per database. --dry-run changes nothing and counts what a run would do. Schedule it daily (README, "Data lifecycle").

            Examples:
              quicksell-cache retention run --dry-run
              quicksell-cache retention run --archive-dir ./quicksell-archive
              quicksell-cache retention run \\
                --postgres-url postgresql://postgres@127.0.0.1:5440/quicksell \\
                --batch-size 500 --verbose
            """
    )

    @ParentCommand var parent: QuicksellCache

    @Option(name: .customLong("postgres-url"), help: "PostgreSQL URL (default: $QUICKSELL_POSTGRES_URL).")
    var postgresURL: String?

    @Option(name: .customLong("archive-dir"),
            help: ArgumentHelp("Folder for analytics exports and photo URL lists (default: $QUICKSELL_ARCHIVE_DIR, else ./quicksell-archive).",
                               valueName: "archive-dir"))
    var archiveDirectory: String?

    @Option(name: .customLong("batch-size"), help: "Listings or photos per batch (one transaction each).")
    var batchSize = 100

    @Option(name: .customLong("analytics-batch-size"), help: "Analytics events deleted per batch.")
    var analyticsBatchSize = 5_000

    @Flag(name: .customLong("dry-run"), help: "Change nothing; count what a run would move, remove or export.")
    var dryRun = false

    @Flag(name: .customLong("verbose"), help: "Log every batch.")
    var verbose = false

    func validate() throws {
        try parent.refuseGatewayOptions("retention run")
        guard batchSize > 0, analyticsBatchSize > 0 else { throw ValidationError("batch sizes must be positive") }
    }

    func run() throws {
        guard let url = postgresURL ?? ProcessInfo.processInfo.environment["QUICKSELL_POSTGRES_URL"] else {
            fail("no PostgreSQL URL: pass --postgres-url or set QUICKSELL_POSTGRES_URL")
        }
        let directory = archiveDirectory ?? ProcessInfo.processInfo.environment["QUICKSELL_ARCHIVE_DIR"] ?? "quicksell-archive"
        runReportingErrors {
            let connection = try PostgresConnection(url: url, applicationName: "quicksell-cache retention")
            let settings = RetentionRunner.Settings(directory: directory, batchSize: batchSize,
                                                    analyticsBatchSize: analyticsBatchSize, dryRun: dryRun)
            let verbose = verbose
            let outcome = try RetentionRunner(connection: connection, settings: settings) { line in
                if verbose && line.contains(": batch ") { print(line) }
            }.run()
            print("retention \(dryRun ? "dry run (nothing changed)" : "run") at \(connection.address)")
            for report in outcome.policies {
                print(report.line(dryRun: dryRun))
            }
            if let file = outcome.photoURLFile {
                print("photo_urls: wrote \(outcome.photoURLs) storage URL(s) of removed photos to \(file)")
            } else {
                print("photo_urls: \(outcome.photoURLs) storage URL(s) \(dryRun ? "queued" : "to write")")
            }
        }
    }
}
