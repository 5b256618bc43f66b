import Foundation
import Postgres
import Testing
import TestSupport

/// Where a test gateway's database lives: the shared test server (`wal_level = logical`,
/// the gateway connecting as a superuser), or a PostgreSQL as users have it out of the box
/// (`wal_level = replica`, the gateway connecting as an application role without REPLICATION).
enum PostgresKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case testServer
    case defaultSettings

    var testDescription: String { rawValue }
}

/// The out-of-the-box PostgreSQL of `PostgresKind.defaultSettings`: one private server per
/// test process, started on first use and removed when the process exits.
enum DefaultPostgres {
    /// The application role test gateways connect as: LOGIN, no REPLICATION, no superuser.
    static let role = "quicksell_app"

    private static let lock = NSLock()
    nonisolated(unsafe) private static var server: PrivatePostgres?

    /// The server, started (and given the role) on first use.
    static func shared() throws -> PrivatePostgres {
        lock.lock()
        defer { lock.unlock() }
        if let server { return server }
        let started = try PrivatePostgres(walLevel: "replica", migrated: false)
        try started.connect().execute("CREATE ROLE \(role) LOGIN NOSUPERUSER NOREPLICATION")
        server = started
        atexit { DefaultPostgres.removeOnExit() }
        return started
    }

    private static func removeOnExit() {
        server?.remove()
    }

    /// `database`'s URL for the application role, which may read every table there.
    static func applicationURL(for database: TestDatabase) throws -> String {
        try database.connect().execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO \(role)")
        return database.url.replacingOccurrences(of: "postgresql://postgres@", with: "postgresql://\(role)@")
    }
}
