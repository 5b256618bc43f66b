/// What PostgreSQL says about logical replication slots: the WAL each holds back, who
/// streams it, and dropping one. Read on an ordinary connection (never the replication one),
/// by the gateway for its own slot and by `quicksell-cache slots` for all of them.
public enum ReplicationSlotCatalog {
    /// One logical slot of the connected database.
    public struct Slot: Sendable, Equatable {
        public let name: String
        /// The server process streaming it; nil when nobody does.
        public let activePID: Int?
        /// WAL kept on the server for it; nil when PostgreSQL no longer has its position (lost).
        public let retainedBytes: Int64?
        /// `reserved`, `extended`, `unreserved` or `lost` (pg_replication_slots.wal_status).
        public let walStatus: String

        public var isActive: Bool { activePID != nil }
    }

    /// WAL between the server's current position and what the slot still needs. On a standby
    /// the current position is the last replayed one (`pg_current_wal_lsn` fails there).
    static let retainedBytesSQL = """
        pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END,
                        restart_lsn)::bigint
        """

    /// Every logical slot of the current database, by name.
    public static func list(_ connection: PostgresConnection) throws -> [Slot] {
        let result = try connection.execute("""
            SELECT slot_name, active_pid, \(retainedBytesSQL), coalesce(wal_status, '')
            FROM pg_replication_slots
            WHERE slot_type = 'logical' AND database = current_database()
            ORDER BY slot_name
            """)
        return result.rows.compactMap { row in
            guard row.count == 4, let name = row[0] else { return nil }
            return Slot(name: name, activePID: row[1].flatMap { Int($0) }, retainedBytes: row[2].flatMap { Int64($0) },
                        walStatus: row[3] ?? "")
        }
    }

    /// The WAL `slot` holds back; nil when there is no such slot or it has lost its WAL.
    public static func retainedBytes(slot: String, _ connection: PostgresConnection) throws -> Int64? {
        try connection.query("SELECT \(retainedBytesSQL) FROM pg_replication_slots WHERE slot_name = $1", [slot])
            .scalar.flatMap { Int64($0) }
    }

    /// Why a slot was not dropped.
    public enum DropError: Error, Equatable, CustomStringConvertible {
        case notFound(slot: String, database: String)
        case active(slot: String, pid: Int)

        public var description: String {
            switch self {
            case .notFound(let slot, let database):
                "no logical replication slot named '\(slot)' in database \(database)"
            case .active(let slot, let pid):
                "replication slot '\(slot)' is active: server process \(pid) streams it (a running gateway?); "
                    + "stop that gateway first, or terminate the process"
            }
        }
    }

    /// Drops an inactive logical slot of the current database; refuses an active one, naming
    /// its streaming process. PostgreSQL itself refuses if a gateway takes the slot meanwhile.
    public static func drop(slot name: String, _ connection: PostgresConnection) throws {
        guard let slot = try list(connection).first(where: { $0.name == name }) else {
            let database = try connection.execute("SELECT current_database()").scalar ?? "?"
            throw DropError.notFound(slot: name, database: database)
        }
        if let pid = slot.activePID { throw DropError.active(slot: name, pid: pid) }
        _ = try connection.query("SELECT pg_drop_replication_slot($1)", [name])
    }
}
