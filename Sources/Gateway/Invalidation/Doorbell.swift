import Foundation
import Postgres

/// The listener's side of the doorbell of migration 007: it registers its backend, holds
/// an exclusive advisory lock while it sleeps (writers then ring NOTIFY) and releases it
/// while it works (writers then only write the outbox, which it reads before sleeping).
struct Doorbell: Sendable {
    /// False against a schema without migration 007: every write notifies, as in 006.
    let enabled: Bool
    /// A transaction id assigned after the registration committed. Writers that read the
    /// registry before it may have skipped NOTIFY without waiting for us, so the outbox is
    /// polled until every transaction up to this one has ended (`settled`).
    let registeredBefore: UInt64?

    /// How long a sleeping listener may wait for writers that skipped NOTIFY before it goes
    /// back to reading the outbox (a writer can hold its transaction open for long).
    static let lockTimeout = "5ms"

    /// Registers the connection's backend as a sleeping listener; on a schema without 007
    /// returns a disabled doorbell.
    static func register(_ connection: PostgresConnection) throws -> Doorbell {
        let present = try connection.execute("SELECT to_regproc('quicksell_listener_register') IS NOT NULL").scalar
        guard present == "t" else { return Doorbell(enabled: false, registeredBefore: nil) }
        try connection.execute("SET lock_timeout = '\(lockTimeout)'")
        try connection.execute("SELECT quicksell_listener_register()")
        let xid = try connection.execute("SELECT pg_current_xact_id()::text").scalar
        return Doorbell(enabled: true, registeredBefore: xid.flatMap { UInt64($0) })
    }

    /// Re-acquires the exclusive lock (go to sleep): waits for every writer that skipped
    /// NOTIFY to end. False when that took longer than `lockTimeout` (stay awake).
    func sleep(_ connection: PostgresConnection) throws -> Bool {
        guard enabled else { return true }
        do {
            try connection.execute("SELECT pg_advisory_lock(quicksell_doorbell_space(), pg_backend_pid())")
            return true
        } catch let error as PostgresError where error.sqlState == "55P03" {
            return false
        }
    }

    /// Forgets the registration (the connection is about to close; a crashed listener is
    /// forgotten by the next registration instead).
    func unregister(_ connection: PostgresConnection) {
        guard enabled else { return }
        _ = try? connection.execute("SELECT quicksell_listener_unregister()")
    }
}
