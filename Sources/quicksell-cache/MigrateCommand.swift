import ArgumentParser
import Foundation
import Postgres

/// `quicksell-cache migrate`: brings a database's schema up to date.
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending schema migrations (config/schema/NNN_name.sql) in order.",
        discussion: """
            Each migration runs in its own transaction and is recorded in the table
            schema_migrations; running migrate again applies nothing new. A failing
            migration is rolled back and named with PostgreSQL's error.

            Example:
              quicksell-cache migrate --postgres-url postgresql://postgres@127.0.0.1:5440/quicksell
            """
    )

    @Option(name: .customLong("postgres-url"),
            help: "PostgreSQL URL (default: $QUICKSELL_POSTGRES_URL).")
    var postgresURL: String?

    @Option(name: .customLong("schema-dir"),
            help: "Folder of migration files (default: $QUICKSELL_SCHEMA_DIR, else the nearest config/schema).")
    var schemaDirectory: String?

    func run() throws {
        guard let url = postgresURL ?? ProcessInfo.processInfo.environment["QUICKSELL_POSTGRES_URL"] else {
            fail("no PostgreSQL URL: pass --postgres-url or set QUICKSELL_POSTGRES_URL")
        }
        do {
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
        } catch {
            fail("\(error)")
        }
    }
}

/// Prints a one-line reason and exits non-zero.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("quicksell-cache: error: \(message)\n".utf8))
    Foundation.exit(1)
}
