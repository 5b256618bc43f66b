import Dispatch
import Foundation
import Logging
import Postgres
import Synchronization

/// The gateway's one blocking component: a thread of its own that owns the libpq
/// replication connection, blocks in `poll()` on it, streams the invalidation messages of
/// migration 008 from the gateway's logical replication slot and has them applied through
/// the `Invalidator`. Every decision is the `ReplicationStreamStateMachine`'s; this thread
/// only reads, writes and waits. Async code starts and stops it without blocking.
///
/// Nothing is lost silently: the slot keeps every committed transaction's messages until
/// the listener confirms it, and the listener confirms a transaction only after Redis has
/// dropped its keys. After a disconnect, a Redis failure or a restart, PostgreSQL streams
/// again from the last confirmed transaction (a recovery). Only a new slot (first start,
/// or PostgreSQL dropped the old one's WAL) cannot know what was written before it; the
/// listener then flushes every family. Either way it counts and logs the recovery.
public final class InvalidationListener: SourceListener {
    let url: String
    let invalidator: Invalidator
    let slot: ReplicationSlot
    /// The stream machine's limits (the family-flush threshold comes from the settings).
    private let limits: ReplicationStreamStateMachine.Limits
    /// The WAL the slot holds back, read by the health monitor (not by this thread).
    private let retention: SlotRetention
    let logger: Logger
    let thread: ListenerThread
    /// The listener's status, written on its thread.
    var state: ListenerStatusBox { thread.status }
    var firstAttempt: OneTimeEvent { thread.firstAttempt }

    package init(url: String, invalidator: Invalidator, settings: InvalidationSettings, retention: SlotRetention,
                 logger: Logger) {
        self.url = url
        self.invalidator = invalidator
        self.slot = ReplicationSlot(name: settings.replicationSlot)
        var limits = ReplicationStreamStateMachine.Limits()
        limits.flushFamiliesAboveKeys = settings.flushFamiliesAboveKeys
        limits.silenceLimit = .seconds(settings.listenerTimeoutSeconds)
        self.limits = limits
        self.retention = retention
        self.logger = logger
        self.thread = ListenerThread(logger: logger)
    }

    public var status: ListenerStatus { state.withLock { $0 } }

    package var catchingUpProblem: String { "replaying the writes kept in its replication slot" }

    package var sourceInfoLines: [(String, String)] {
        [("replication_slot", slot.name), ("replication_confirmed_lsn", status.confirmedPositionText),
         ("replication_slot_retained_bytes", retention.retainedBytes.map { String($0) } ?? "")]
    }

    /// Starts the thread; returns once its first connection has replayed what the slot held
    /// (or failed, or the start-up time passed).
    package func start() async {
        await thread.start { [self] in run() }
    }

    package func stop() async {
        await thread.stop()
    }

    // MARK: - The thread

    private func run() {
        var machine = ReplicationStreamStateMachine(limits: limits)
        while !thread.isStopping {
            do {
                try connectAndStream(&machine)
            } catch {
                thread.connectionFailed(error) { reason in
                    machine.connectionLost(reason: reason).compactMap {
                        if case .reconnect(let delay, let report) = $0 { (delay, report) } else { nil }
                    }
                }
            }
        }
    }

    private func connectAndStream(_ machine: inout ReplicationStreamStateMachine) throws {
        let connection = try PostgresConnection(
            url: url, applicationName: "quicksell-gateway listener", connectTimeoutSeconds: 2, detectsDeadPeer: true,
            replication: true)
        let preparation = try slot.prepare(connection)
        for case .flushAll(let reason) in machine.slotPrepared(preparation, slot: slot.name) {
            do {
                try thread.flushEverything(invalidator, reason: reason)
            } catch {
                // Without the flush, resuming this slot later would keep what predates it.
                _ = try? connection.execute("DROP_REPLICATION_SLOT \(slot.name)")
                throw error
            }
        }
        // Everything committed up to here is in the slot (or was flushed): once the
        // stream has passed this position, the cache is as fresh as the listener can make it.
        let caughtUpAt = try currentPosition(connection)
        try connection.startStreaming(slot.startCommand)
        state.withLock {
            $0.connected = true
            $0.lastError = nil
        }
        _ = machine.streamStarted(resumed: preparation == .resumed, caughtUpAt: caughtUpAt, now: .now)
        var stream = ReplicationStream(listener: self, connection: connection)
        try stream.run(&machine)
    }

    // MARK: - Recovery

    func countRecovery(replayedKeys: Int) {
        state.withLock {
            $0.recoveries += 1
            $0.replayedKeys += replayedKeys
        }
        logger.notice("invalidation recovery: replayed the writes kept in the replication slot", metadata: [
            "slot": "\(slot.name)", "keys": "\(replayedKeys)"])
    }

    // MARK: - Helpers

    /// The server's current WAL position (`pg_current_wal_lsn`) as a number.
    private func currentPosition(_ connection: PostgresConnection) throws -> UInt64 {
        let text = try connection.execute("SELECT pg_current_wal_lsn()::text").scalar
        guard let text, let position = Self.parseLSN(text) else {
            throw PostgresError.unexpectedValue(column: "pg_current_wal_lsn", value: text)
        }
        return position
    }

    /// `16/B374D848` → 0x16_B374D848.
    package static func parseLSN(_ text: String) -> UInt64? {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let high = UInt32(parts[0], radix: 16), let low = UInt32(parts[1], radix: 16) else {
            return nil
        }
        return UInt64(high) << 32 | UInt64(low)
    }
}
