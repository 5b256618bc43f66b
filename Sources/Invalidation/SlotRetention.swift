import CacheModel
import Logging
import Postgres
import Synchronization

/// How much WAL the gateway's replication slot holds back on the PostgreSQL server, for
/// `INFO invalidation` and `/metrics`, with a warning past `invalidation.slot_retained_warning_bytes`.
/// A slot keeps WAL until its gateway confirms it, so a growing figure means the listener is
/// behind or disconnected, and the disk of the database fills until it catches up.
///
/// Read every `interval` on an ordinary pooled connection (the health monitor's PostgreSQL
/// probe), never on the replication connection, whose thread must keep streaming.
package final class SlotRetention: Sendable {
    package let slot: String
    package let interval: Duration = .seconds(5)
    private let logger: Logger
    private let state: Mutex<(bytes: Int64?, lastRead: ContinuousClock.Instant?, alarm: SlotRetentionAlarm)>

    package init(slot: String, warningBytes: Int64, logger: Logger) {
        self.slot = slot
        self.logger = logger
        state = Mutex((nil, nil, SlotRetentionAlarm(thresholdBytes: warningBytes)))
    }

    /// The last reading; nil before the first one, or when the slot is missing or lost.
    package var retainedBytes: Int64? { state.withLock { $0.bytes } }

    /// Reads the slot's retained WAL on `connection` when `interval` has passed since the last
    /// reading. A failed reading leaves the figure unknown and is not the probe's failure.
    package func readIfDue(_ connection: PostgresConnection, now: ContinuousClock.Instant = .now) {
        let due = state.withLock { state -> Bool in
            guard state.lastRead.map({ now - $0 >= interval }) ?? true else { return false }
            state.lastRead = now
            return true
        }
        guard due else { return }
        record(try? ReplicationSlotCatalog.retainedBytes(slot: slot, connection))
    }

    /// Records a reading and logs a threshold crossing.
    package func record(_ bytes: Int64?) {
        let (event, threshold) = state.withLock { state -> (SlotRetentionAlarm.Event?, Int64) in
            state.bytes = bytes
            return (bytes.flatMap { state.alarm.observe($0) }, state.alarm.thresholdBytes)
        }
        guard let event, let bytes else { return }
        let metadata: Logger.Metadata = [
            "slot": "\(slot)", "retained_bytes": "\(bytes)",
            "slot_retained_warning_bytes": "\(threshold)",
        ]
        switch event {
        case .crossedAbove:
            logger.warning("""
                replication slot \(slot) holds back \(ByteCount.readable(bytes)) of WAL on the PostgreSQL server, \
                over invalidation.slot_retained_warning_bytes (\(ByteCount.readable(threshold))): \
                the invalidation listener is behind or disconnected, and the server's disk fills until it catches up
                """, metadata: metadata)
        case .fellBelow:
            logger.notice("replication slot \(slot) holds back \(ByteCount.readable(bytes)) of WAL again, under the warning threshold",
                          metadata: metadata)
        }
    }
}
