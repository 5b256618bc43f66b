import ArgumentParser
import Foundation
import LoadTest
import Postgres

/// `quicksell-loadtest seed`: fills an empty, migrated database with deterministic data.
struct SeedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed",
        abstract: "Fill all fifteen QuickSell tables with deterministic sample data (COPY, one transaction).",
        discussion: """
            The same --seed, --users and --reference-time always give byte-identical data. Every date is derived from the reference time: sales spread over the six months before it, with a share in its ISO week and calendar month (UTC) so that both leaderboards have entries. The schema must already be applied (quicksell-cache migrate). A database that holds data is refused unless --truncate (replace it) or --if-empty (leave it alone) is given. Progress goes to stderr, the summary to stdout.

            Example:
              export QUICKSELL_POSTGRES_URL=postgresql://postgres@127.0.0.1:5440/quicksell
              quicksell-loadtest seed --users 100000 --seed 42 \\
                --reference-time 2026-11-26T12:00:00Z --truncate
            """
    )

    @Option(name: .customLong("postgres-url"), help: "PostgreSQL URL (default: $QUICKSELL_POSTGRES_URL).")
    var postgresURL: String?

    @Option(help: "Number of users; listings, photos, sales, … are sized from it (~5 listings per user).")
    var users: Int

    @Option(help: "Seed of the random generator.")
    var seed: UInt64 = 1

    @Option(name: .customLong("reference-time"),
            help: "\"Now\" of the data set, ISO 8601 (e.g. 2026-11-26T12:00:00Z; default: the current time, UTC, to the second).")
    var referenceTime: String?

    @Flag(name: .customLong("if-empty"), help: "Do nothing if the users table already has rows.")
    var ifEmpty = false

    @Flag(help: "Empty all fifteen tables first (TRUNCATE … RESTART IDENTITY CASCADE).")
    var truncate = false

    func validate() throws {
        guard users >= 1 else { throw ValidationError("--users must be at least 1, got \(users)") }
        guard !(ifEmpty && truncate) else { throw ValidationError("--if-empty and --truncate exclude each other") }
        if let referenceTime, UTCTime.parseISO8601(referenceTime) == nil {
            throw ValidationError("--reference-time '\(referenceTime)' is not an ISO 8601 time such as 2026-11-26T12:00:00Z")
        }
    }

    func run() throws {
        guard let url = postgresURL ?? ProcessInfo.processInfo.environment["QUICKSELL_POSTGRES_URL"], !url.isEmpty else {
            throw CommandFailure(message: "no PostgreSQL URL: pass --postgres-url or set QUICKSELL_POSTGRES_URL")
        }
        let reference = referenceTime.flatMap(UTCTime.parseISO8601) ?? Int64(Date().timeIntervalSince1970.rounded(.down))
        let options = SeedOptions(
            users: users, seed: seed, referenceTime: reference,
            existingData: truncate ? .truncate : (ifEmpty ? .skipIfUsersExist : .fail))
        do {
            let connection = try PostgresConnection(url: url, applicationName: "quicksell-loadtest seed")
            Self.stderr("seeding \(connection.address): \(users) users, seed \(seed), reference time \(UTCTime.iso8601(reference))")
            let outcome = try Seeder(connection: connection, options: options).run(progress: Self.report)
            switch outcome {
            case let .skipped(existingUsers):
                print("--if-empty: users already has \(existingUsers) rows at \(connection.address); nothing seeded")
            case let .seeded(report):
                Self.printSummary(report, seed: seed)
            }
        } catch {
            throw CommandFailure(message: "\(error)")
        }
    }

    private static func report(_ progress: SeedProgress) {
        switch progress {
        case let .planned(listings, sales, seconds):
            stderr("planned \(listings) listings and \(sales) sales in \(format(seconds)) s")
        case .truncated:
            stderr("--truncate: emptied all fifteen tables")
        case let .tableDone(table, elapsed):
            stderr("\(pad(table.name, 22)) \(pad(String(table.rows), 9, left: true)) rows in \(format(table.seconds)) s (elapsed \(format(elapsed)) s)")
        }
    }

    private static func printSummary(_ report: SeedReport, seed: UInt64) {
        print("seeded \(report.tables.count) tables, \(report.totalRows) rows in \(format(report.totalSeconds)) s "
            + "(seed \(seed), reference time \(UTCTime.iso8601(report.referenceTime)))")
        for table in report.tables {
            print("  \(pad(table.name, 22)) \(pad(String(table.rows), 9, left: true))")
        }
    }

    private static func stderr(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    private static func format(_ seconds: Double) -> String {
        let tenths = Int((seconds * 100).rounded())
        return "\(tenths / 100).\(tenths % 100 < 10 ? "0" : "")\(tenths % 100)"
    }

    private static func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - text.count))
        return left ? fill + text : text + fill
    }
}
