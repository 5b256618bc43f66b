import Foundation
import Postgres

/// The gateway's logical replication slot. PostgreSQL keeps every invalidation message in
/// it until the gateway confirms having applied it, so a gateway that was disconnected,
/// restarted or stopped for a while replays exactly what it missed. Each gateway needs a
/// slot of its own (a slot streams to one connection at a time).
package struct ReplicationSlot: Sendable, Equatable {
    package let name: String

    /// The publication named when streaming (migration 008 creates it empty: pgoutput
    /// needs one, and sends the messages whatever it publishes).
    package static let publication = "quicksell_invalidation"

    /// What `prepare` found.
    package enum Preparation: Equatable {
        /// The slot existed: streaming resumes after the last confirmed transaction.
        case resumed
        /// The slot was made now (`replacedLost`: PostgreSQL had dropped its WAL): what was
        /// written before it is unknown, so the caller flushes every family.
        case created(replacedLost: Bool)
    }

    /// Slot names PostgreSQL accepts: lower-case letters, digits and underscores, at most 63.
    package static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 63
            && name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
    }

    /// `quicksell_<host>_<port>`: distinct for gateways on different hosts or ports.
    package static func defaultName(host: String, port: Int) -> String {
        let suffix = "_\(port)"
        let cleaned = String(host.lowercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
        return "quicksell_" + cleaned.prefix(63 - "quicksell_".count - suffix.count) + suffix
    }

    /// This machine's host name, for `defaultName`.
    package static var hostName: String { ProcessInfo.processInfo.hostName }

    /// Checks the server (wal_level, migration 008) on a replication connection, then finds
    /// or makes the slot. Throws `InvalidationSetupError` with what to do when it cannot.
    package func prepare(_ connection: PostgresConnection) throws -> Preparation {
        let level = try connection.execute("SHOW wal_level").scalar ?? "?"
        guard level == "logical" else {
            throw InvalidationSetupError.walLevel(address: connection.address, found: level)
        }
        let publication = try connection.execute(
            "SELECT count(*) FROM pg_publication WHERE pubname = '\(Self.publication)'").scalar
        guard publication == "1" else {
            throw InvalidationSetupError.migrationMissing(address: connection.address)
        }
        let found = try connection.execute("""
            SELECT database, coalesce(database = current_database(), false), coalesce(active_pid::text, ''),
                   coalesce(wal_status, '')
            FROM pg_replication_slots WHERE slot_name = '\(name)'
            """)
        guard let row = found.rows.first, row.count == 4 else {
            try create(connection)
            return .created(replacedLost: false)
        }
        guard row[1] == "t" else {
            throw InvalidationSetupError.slotOfAnotherDatabase(slot: name, database: row[0] ?? "?")
        }
        if row[3] == "lost" {
            try connection.execute("DROP_REPLICATION_SLOT \(name)")
            try create(connection)
            return .created(replacedLost: true)
        }
        if let pid = row[2], !pid.isEmpty {
            throw InvalidationSetupError.slotInUse(slot: name, pid: pid)
        }
        return .resumed
    }

    /// The command that streams the slot's messages.
    package var startCommand: String {
        "START_REPLICATION SLOT \(name) LOGICAL 0/0 (proto_version '1', publication_names '\(Self.publication)', messages 'true')"
    }

    private func create(_ connection: PostgresConnection) throws {
        try connection.execute("CREATE_REPLICATION_SLOT \(name) LOGICAL pgoutput NOEXPORT_SNAPSHOT")
    }
}
