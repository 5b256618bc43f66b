import Foundation
import Postgres

/// What one read of the outbox found: the rows of every transaction that the previous
/// read's snapshot did not see and this one does, and this read's snapshot (the next
/// watermark once the rows are applied).
struct OutboxRead: Sendable {
    let snapshot: String
    /// `pg_snapshot_xmin` of `snapshot`: every transaction below it has ended.
    let oldestRunning: UInt64?
    let writes: [InvalidationWrite]
}

/// The outbox query of the listener. One statement, so the rows it returns are exactly
/// those of the transactions its own snapshot sees (whatever order they committed in).
/// Prepared once per connection: it runs after every wake-up.
enum OutboxReader {
    private static let readStatement = "quicksell_outbox_read"
    private static let wakeStatement = "quicksell_outbox_wake"

    /// Prepares the queries on a new listening connection (the waking one only with a doorbell).
    static func prepare(_ connection: PostgresConnection, doorbell: Bool) throws {
        try connection.prepare(name: readStatement, sql: readSQL, parameterCount: 2)
        if doorbell { try connection.prepare(name: wakeStatement, sql: wakeSQL, parameterCount: 2) }
    }

    /// Reads the rows not visible in `since`, leaving out `skipping` (rows whose keys a
    /// notification already carried). With `releasingDoorbell` the same statement
    /// releases the listener's doorbell lock (after its snapshot was taken: a writer that
    /// then skips NOTIFY is seen by a later read, see migration 007).
    static func read(_ connection: PostgresConnection, since: String, skipping: Set<Int64>,
                     releasingDoorbell: Bool) throws -> OutboxRead {
        let result = try connection.executePrepared(
            name: releasingDoorbell ? wakeStatement : readStatement,
            [since, "{" + skipping.map(String.init).joined(separator: ",") + "}"])
        guard let first = result.rows.first, let snapshot = first.first ?? nil else {
            throw PostgresError.unexpectedValue(column: "pg_current_snapshot", value: nil)
        }
        var writes: [InvalidationWrite] = []
        writes.reserveCapacity(result.rows.count)
        for row in result.rows where row.count == 6 {
            guard row[2] != nil, let transactionID = row[3] else { continue }
            writes.append(InvalidationWrite(
                keys: InvalidationListener.parseArray(row[4]), transactionID: transactionID,
                triggerMicroseconds: row[5].flatMap { Int64($0) }))
        }
        return OutboxRead(snapshot: snapshot, oldestRunning: (first.count > 1 ? first[1] : nil).flatMap { UInt64($0) },
                          writes: writes)
    }

    private static func sql(snapshotSource: String) -> String {
        """
        SELECT s.snap::text, pg_snapshot_xmin(s.snap)::text, c.id::text, c.xid::text, c.keys::text,
               (extract(epoch FROM c.created_at) * 1000000)::bigint::text
        FROM (\(snapshotSource) OFFSET 0) s
        LEFT JOIN cache_invalidations c
          ON c.xid >= pg_snapshot_xmin($1::pg_snapshot) AND NOT pg_visible_in_snapshot(c.xid, $1::pg_snapshot)
         AND c.id <> ALL($2::bigint[])
        ORDER BY c.id
        """
    }

    static let readSQL = sql(snapshotSource: "SELECT pg_current_snapshot() AS snap")
    static let wakeSQL = sql(snapshotSource: """
        SELECT pg_current_snapshot() AS snap, pg_advisory_unlock(quicksell_doorbell_space(), pg_backend_pid()) AS released
        """)
}
