import Foundation
import Postgres

/// A throwaway database on the test server, so that tests running in parallel never
/// see each other's rows. Drop it at the end with `drop()`.
public final class TestDatabase: @unchecked Sendable {
    public let name: String
    /// URL of the new database.
    public let url: String
    private let adminURL: String

    private static let counter = Counter()

    /// Creates an empty database; with `migrated`, applies every migration first. On the test
    /// server, or on the server of `adminURL`.
    public init(label: String = "test", migrated: Bool = true, adminURL: String? = nil) throws {
        let adminURL = try adminURL ?? TestEnvironment.postgresAdminURL()
        self.adminURL = adminURL
        let suffix = "\(ProcessInfo.processInfo.processIdentifier)_\(Self.counter.next())"
        let safeLabel = String(label.lowercased().filter { $0.isLetter || $0.isNumber || $0 == "_" }.prefix(30))
        name = "qs_\(safeLabel)_\(suffix)"
        let admin = try PostgresConnection(url: adminURL, applicationName: "quicksell-tests")
        try admin.execute("DROP DATABASE IF EXISTS \"\(name)\"")
        try admin.execute("CREATE DATABASE \"\(name)\"")
        url = Self.replacingDatabase(in: adminURL, with: name)
        if migrated {
            let migrations = try Migration.load(from: try TestEnvironment.schemaDirectory())
            _ = try Migrator(connection: try connect()).migrate(migrations)
        }
    }

    /// A new connection to this database.
    public func connect() throws -> PostgresConnection {
        try PostgresConnection(url: url, applicationName: "quicksell-tests")
    }

    /// Drops the database, ending any connection still open to it. Its gateways'
    /// replication slots go first (PostgreSQL refuses to drop a database that has one).
    public func drop() {
        guard let admin = try? PostgresConnection(url: adminURL, applicationName: "quicksell-tests") else { return }
        Self.dropReplicationSlots(of: name, admin: admin)
        _ = try? admin.execute("DROP DATABASE IF EXISTS \"\(name)\" WITH (FORCE)")
    }

    /// Ends the WAL senders streaming `database`'s slots and drops the slots (a sender
    /// takes a moment to exit, so this retries for up to 5 s).
    static func dropReplicationSlots(of database: String, admin: PostgresConnection) {
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            _ = try? admin.query("""
                SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots
                WHERE database = $1 AND active_pid IS NOT NULL
                """, [database])
            _ = try? admin.query("""
                SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
                WHERE database = $1 AND NOT active
                """, [database])
            let left = try? admin.query("SELECT count(*) FROM pg_replication_slots WHERE database = $1", [database]).scalar
            if left == "0" { return }
            usleep(50_000)
        }
    }

    /// `postgresql://user@host:port/olddb?x` → `postgresql://user@host:port/newdb?x`.
    static func replacingDatabase(in url: String, with database: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let afterScheme = url[schemeEnd.upperBound...]
        let query = afterScheme.firstIndex(of: "?").map { String(afterScheme[$0...]) } ?? ""
        let authority = afterScheme.prefix { $0 != "/" && $0 != "?" }
        return String(url[..<schemeEnd.upperBound]) + authority + "/" + database + query
    }
}

/// Replication slot names for the gateways that tests start (slot names are server-wide).
public enum TestSlots {
    private static let counter = Counter()

    public static func nextName() -> String {
        "qs_test_\(ProcessInfo.processInfo.processIdentifier)_\(counter.next())"
    }
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}
