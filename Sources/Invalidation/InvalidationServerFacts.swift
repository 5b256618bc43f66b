import Postgres

/// What a PostgreSQL server and the gateway's role allow, as far as invalidation goes: read
/// with one query on an ordinary connection (no replication privilege needed to ask).
package struct InvalidationServerFacts: Sendable, Equatable {
    /// `host:port/database`, for messages.
    package var address: String
    package var walLevel: String
    package var role: String
    /// The role has `REPLICATION` (or is a superuser).
    package var mayReplicate: Bool
    /// This gateway's slot exists, or `max_replication_slots` leaves room for it.
    package var slotAvailable: Bool
    /// `max_wal_senders` leaves room for one more stream.
    package var walSenderAvailable: Bool
    /// Migration 008 (the publication) is applied.
    package var streamMigrated: Bool
    /// The sources the triggers feed (migration 009); nil when 009 is not applied (then the
    /// triggers of 008 feed the stream only).
    package var emitters: Emitters?

    package struct Emitters: Sendable, Equatable {
        package var wal: Bool
        package var notify: Bool

        package init(wal: Bool, notify: Bool) {
            self.wal = wal
            self.notify = notify
        }
    }

    package init(address: String, walLevel: String, role: String, mayReplicate: Bool, slotAvailable: Bool,
                 walSenderAvailable: Bool, streamMigrated: Bool, emitters: Emitters?) {
        self.address = address
        self.walLevel = walLevel
        self.role = role
        self.mayReplicate = mayReplicate
        self.slotAvailable = slotAvailable
        self.walSenderAvailable = walSenderAvailable
        self.streamMigrated = streamMigrated
        self.emitters = emitters
    }

    /// The triggers feed the stream (008 alone does; 009 may have switched it off).
    package var streamFed: Bool { streamMigrated && (emitters?.wal ?? true) }
    /// The triggers send `NOTIFY` (needs 009).
    package var notifyFed: Bool { emitters?.notify ?? false }

    /// Reads the facts on `connection` for the slot `slot`.
    package static func read(_ connection: PostgresConnection, slot: String) throws -> InvalidationServerFacts {
        let result = try connection.query("""
            SELECT current_setting('wal_level'), current_user::text,
                   coalesce((SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user), false),
                   EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)
                     OR (SELECT count(*) FROM pg_replication_slots) < current_setting('max_replication_slots')::int,
                   (SELECT count(*) FROM pg_stat_replication) < current_setting('max_wal_senders')::int,
                   EXISTS (SELECT 1 FROM pg_publication WHERE pubname = 'quicksell_invalidation'),
                   to_regclass('quicksell_invalidation_emitters') IS NOT NULL
            """, [slot])
        guard let row = result.rows.first, row.count == 7 else {
            throw PostgresError.unexpectedValue(column: "invalidation facts", value: "\(result.rows.count) rows")
        }
        var emitters: Emitters?
        if row[6] == "t" {
            let flags = try connection.execute("SELECT wal, notify FROM quicksell_invalidation_emitters").rows.first
            emitters = Emitters(wal: flags?.first ?? nil == "t", notify: flags?.last ?? nil == "t")
        }
        return InvalidationServerFacts(
            address: connection.address, walLevel: row[0] ?? "?", role: row[1] ?? "?", mayReplicate: row[2] == "t",
            slotAvailable: row[3] == "t", walSenderAvailable: row[4] == "t", streamMigrated: row[5] == "t",
            emitters: emitters)
    }
}
