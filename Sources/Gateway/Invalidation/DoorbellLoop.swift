import Foundation
import Logging
import Postgres

/// One listening connection's cycle: sleep (doorbell lock held, writers notify) and apply
/// the keys that notifications carry; when several arrive at once (or one without its
/// keys), wake (lock released, writers only write the outbox), read the outbox until a read
/// finds nothing, re-acquire the lock (waits for the writers that skipped NOTIFY), read
/// once more, sleep. A sleeping listener also reads the outbox every `readInterval`.
///
/// Every read applies the rows of the transactions its snapshot sees that the previous
/// snapshot did not, so after each read that snapshot is a valid watermark.
final class DoorbellLoop {
    private let connection: PostgresConnection
    private let doorbell: Doorbell
    private let hooks: InvalidationHooks
    private let apply: ([InvalidationWrite]) throws -> Void
    private let countNotification: () -> Void
    private let logger: Logger
    private(set) var watermark: Watermark
    private var seen: SnapshotVisibility?
    /// Outbox rows whose keys notifications already carried, left out of the next read.
    private var appliedRows: Set<Int64> = []
    /// Until every transaction that may have missed the registration ended, the outbox
    /// is read every `unsettledPollMilliseconds`.
    private var settleAfter: UInt64?
    private var lastRead = Date()

    static let channel = "quicksell_invalidation"
    static let sleepingPollMilliseconds: Int32 = 50
    static let unsettledPollMilliseconds: Int32 = 5
    /// The longest a sleeping listener goes without reading the outbox (a safety net; the
    /// doorbell is what makes invalidation prompt).
    static let readInterval: TimeInterval = 0.25
    /// Keys applied (and confirmed by Redis) together at most, out of one outbox read.
    static let keysPerApply = 20_000
    /// A notification naming more rows than this is not remembered: the read applies them again
    /// (only a one-row range surely holds nothing but that write: ids come from a sequence).
    static let rememberedRowsPerNotification: Int64 = 1

    init(connection: PostgresConnection, doorbell: Doorbell, watermark: Watermark, hooks: InvalidationHooks,
         logger: Logger, countNotification: @escaping () -> Void, apply: @escaping ([InvalidationWrite]) throws -> Void) throws {
        try OutboxReader.prepare(connection, doorbell: doorbell.enabled)
        self.connection = connection
        self.doorbell = doorbell
        self.watermark = watermark
        self.seen = SnapshotVisibility(watermark.snapshot)
        self.settleAfter = doorbell.registeredBefore
        self.hooks = hooks
        self.logger = logger
        self.countNotification = countNotification
        self.apply = apply
    }

    var settled: Bool { settleAfter == nil }

    /// Asleep: the doorbell lock is held and writers notify. Awake: they do not, and the
    /// loop keeps reading the outbox until a read finds nothing and the lock is back.
    private(set) var asleep = true
    private var lastReadFound = 0

    /// How long to wait in `poll()` before the next `step()`.
    var pollTimeoutMilliseconds: Int32 {
        guard asleep else { return 0 }
        return settled ? Self.sleepingPollMilliseconds : Self.unsettledPollMilliseconds
    }

    /// One turn of the cycle, after `poll()` returned and the input was consumed.
    func step() throws {
        let received = try receive()
        if !asleep {
            if lastReadFound == 0, try doorbell.sleep(connection) {
                asleep = true
                _ = try read(releasingDoorbell: false)
            } else {
                lastReadFound = try read(releasingDoorbell: false)
            }
        } else if doorbell.enabled && DoorbellDecision.shouldWake(received) {
            lastReadFound = try read(releasingDoorbell: true)
            asleep = false
            hooks.afterWake?()
        } else if received.needsOutbox || !settled || Date().timeIntervalSince(lastRead) >= Self.readInterval {
            _ = try read(releasingDoorbell: false)
        }
    }

    /// Applies the keys that the notifications received so far carry.
    private func receive() throws -> ReceivedNotifications {
        var writes: [InvalidationWrite] = []
        var received = ReceivedNotifications()
        for notification in connection.drainNotifications() where notification.channel == Self.channel {
            countNotification()
            guard let message = InvalidationMessage(payload: notification.payload) else {
                logger.warning("ignoring a malformed invalidation", metadata: ["payload": "\(notification.payload.prefix(200))"])
                continue
            }
            switch DoorbellDecision.forNotification(message, seen: seen) {
            case .alreadyRead:
                continue
            case .readOutbox:
                received.fresh += 1
                received.needsOutbox = true
            case .applyKeys(let keys, let rows):
                received.fresh += 1
                writes.append(InvalidationWrite(keys: keys, transactionID: message.transactionID,
                                                triggerMicroseconds: message.triggerMicroseconds))
                appliedRows.formUnion(rows)
            }
        }
        if !writes.isEmpty { try apply(writes) }
        return received
    }

    /// One outbox read: applies its rows, then its snapshot becomes the watermark.
    private func read(releasingDoorbell: Bool) throws -> Int {
        let result = try OutboxReader.read(connection, since: watermark.snapshot, skipping: appliedRows,
                                           releasingDoorbell: releasingDoorbell)
        // A bulk statement's rows are applied in slices, each confirmed by Redis in its own
        // time limit (a listener that fell behind must not time out on its own backlog).
        var slice: [InvalidationWrite] = []
        var sliceKeys = 0
        for write in result.writes {
            slice.append(write)
            sliceKeys += write.keys.count
            if sliceKeys >= Self.keysPerApply {
                try apply(slice)
                slice.removeAll(keepingCapacity: true)
                sliceKeys = 0
            }
        }
        if !slice.isEmpty { try apply(slice) }
        appliedRows.removeAll(keepingCapacity: true)
        watermark = Watermark(snapshot: result.snapshot, takenAt: Date().timeIntervalSince1970)
        seen = SnapshotVisibility(result.snapshot)
        lastRead = Date()
        if let settleAfter, let oldest = result.oldestRunning, oldest > settleAfter {
            self.settleAfter = nil
        }
        return result.writes.count
    }
}

/// The new notifications one `poll()` brought.
struct ReceivedNotifications: Equatable {
    /// Notifications of writes that no outbox read has covered yet.
    var fresh = 0
    /// Some of them did not carry their keys: the outbox must be read.
    var needsOutbox = false
}

/// What the listener does with notifications (pure, so that it is unit-tested).
enum DoorbellDecision: Equatable {
    /// An earlier outbox read already applied this write.
    case alreadyRead
    /// The keys are not in the payload: the next outbox read applies them.
    case readOutbox
    /// Apply these keys now and leave `rows` out of the next outbox read.
    case applyKeys([String], rows: Set<Int64>)

    /// Whether a sleeping listener wakes up (releases its lock and reads the outbox) or
    /// stays asleep. A lone notification that carried its keys is fully applied already:
    /// staying asleep keeps its lag to one Redis call, and at such a rate the doorbell is
    /// cheap. Several at once mean writers queue on NOTIFY's commit lock: wake, so that
    /// the next ones skip it. Keys only in the outbox: it must be read anyway.
    static func shouldWake(_ received: ReceivedNotifications) -> Bool {
        received.needsOutbox || received.fresh >= 2
    }

    static func forNotification(_ message: InvalidationMessage, seen: SnapshotVisibility?) -> DoorbellDecision {
        if let seen, let xid = UInt64(message.transactionID), seen.sees(xid) { return .alreadyRead }
        guard let keys = message.keys else { return .readOutbox }
        let span = message.lastID - message.firstID
        guard span >= 0, span < DoorbellLoop.rememberedRowsPerNotification else { return .applyKeys(keys, rows: []) }
        return .applyKeys(keys, rows: Set(message.firstID...message.lastID))
    }
}
