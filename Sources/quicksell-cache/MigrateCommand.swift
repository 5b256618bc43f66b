import ArgumentParser
import Foundation
import Postgres

/// `quicksell-cache migrate`: brings a database's schema up to date.
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending schema migrations (config/schema/NNN_name.sql) in order.",
        discussion: """
            Each migration runs in its own transaction and is recorded in the table schema_migrations; running migrate again applies nothing new. A failing migration is rolled back and named with PostgreSQL's error.

            --invalidation-sources chooses which invalidation sources the triggers feed (both, as migration 009 leaves them, unless changed): switching one off spares writers its cost, but a gateway on that source then refuses to start.

            Examples:
              quicksell-cache migrate \\
                --postgres-url postgresql://postgres@127.0.0.1:5440/quicksell
              quicksell-cache migrate --invalidation-sources notify
            """
    )

    @ParentCommand var parent: QuicksellCache

    @Option(name: .customLong("postgres-url"),
            help: "PostgreSQL URL (default: $QUICKSELL_POSTGRES_URL).")
    var postgresURL: String?

    @Option(name: .customLong("schema-dir"),
            help: "Folder of migration files (default: $QUICKSELL_SCHEMA_DIR, else the nearest config/schema).")
    var schemaDirectory: String?

    @Option(name: .customLong("invalidation-sources"),
            help: "The sources the triggers feed after migrating: wal,notify, wal or notify (default: leave them as they are).")
    var invalidationSources: String?

    func validate() throws {
        try parent.refuseGatewayOptions("migrate")
    }

    func run() throws {
        guard let url = postgresURL ?? ProcessInfo.processInfo.environment["QUICKSELL_POSTGRES_URL"] else {
            fail("no PostgreSQL URL: pass --postgres-url or set QUICKSELL_POSTGRES_URL")
        }
        do {
            let emitters = try invalidationSources.map(Self.parseSources)
            let directory = try Migration.locateDirectory(explicit: schemaDirectory)
            let migrations = try Migration.load(from: directory)
            let connection = try PostgresConnection(url: url, applicationName: "quicksell-cache migrate")
            let outcome = try Migrator(connection: connection).migrate(migrations) { fileName in
                print("applied \(fileName)")
            }
            if outcome.applied.isEmpty {
                print("schema is up to date (\(outcome.alreadyApplied) migrations applied earlier) at \(connection.address)")
            } else {
                print("applied \(outcome.applied.count) migration(s) at \(connection.address); \(outcome.alreadyApplied) were already applied")
            }
            if let emitters {
                _ = try connection.query("SELECT quicksell_set_invalidation_emitters($1, $2)",
                                     [emitters.wal ? "true" : "false", emitters.notify ? "true" : "false"])
                let names = [emitters.wal ? "wal" : nil, emitters.notify ? "notify" : nil].compactMap { $0 }
                print("the invalidation triggers now feed: \(names.joined(separator: ", "))")
            }
        } catch {
            fail("\(error)")
        }
    }
}

extension MigrateCommand {
    /// `wal,notify` → both; `wal` or `notify` → one.
    static func parseSources(_ text: String) throws -> (wal: Bool, notify: Bool) {
        var wal = false
        var notify = false
        for part in text.split(separator: ",") {
            switch part.trimmingCharacters(in: .whitespaces).lowercased() {
            case "wal": wal = true
            case "notify": notify = true
            default:
                throw ValidationError("--invalidation-sources: expected wal,notify, wal or notify, found '\(text)'")
            }
        }
        guard wal || notify else { throw ValidationError("--invalidation-sources: name at least one of wal, notify") }
        return (wal, notify)
    }
}

/// Prints a one-line reason and exits non-zero.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("quicksell-cache: error: \(message)\n".utf8))
    Foundation.exit(1)
}
