import Foundation
import Logging
import Postgres

/// One listening connection's cycle: sleep (doorbell lock held, writers notify) until a
/// notification or a tick; wake (lock released, writers only write the outbox), apply the
/// keys that notifications carried, read the outbox until it is empty, re-acquire the lock
/// (waits for the writers that skipped NOTIFY), read once more, sleep.
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
    /// A notification naming more rows than this is not remembered: the read applies them again.
    static let rememberedRowsPerNotification: Int64 = 64

    init(connection: PostgresConnection, doorbell: Doorbell, watermark: Watermark, hooks: InvalidationHooks,
         logger: Logger, countNotification: @escaping () -> Void, apply: @escaping ([InvalidationWrite]) throws -> Void) {
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
        let rang = try receive()
        if !asleep {
            if lastReadFound == 0, try doorbell.sleep(connection) {
                asleep = true
                _ = try read(releasingDoorbell: false)
            } else {
                lastReadFound = try read(releasingDoorbell: false)
            }
        } else if rang && doorbell.enabled {
            lastReadFound = try read(releasingDoorbell: true)
            asleep = false
            hooks.afterWake?()
        } else if rang || !settled || Date().timeIntervalSince(lastRead) >= Self.readInterval {
            _ = try read(releasingDoorbell: false)
        }
    }

    /// Applies the keys of the notifications received so far. True if any of them is for
    /// a write the outbox reads have not covered yet.
    @discardableResult
    private func receive() throws -> Bool {
        var writes: [InvalidationWrite] = []
        var fresh = false
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
                fresh = true
            case .applyKeys(let keys, let rows):
                fresh = true
                writes.append(InvalidationWrite(keys: keys, transactionID: message.transactionID,
                                                triggerMicroseconds: message.triggerMicroseconds))
                appliedRows.formUnion(rows)
            }
        }
        if !writes.isEmpty { try apply(writes) }
        return fresh
    }

    /// One outbox read: applies its rows, then its snapshot becomes the watermark.
    private func read(releasingDoorbell: Bool) throws -> Int {
        let result = try OutboxReader.read(connection, since: watermark.snapshot, skipping: appliedRows,
                                           releasingDoorbell: releasingDoorbell)
        if !result.writes.isEmpty { try apply(result.writes) }
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

/// What the listener does with one notification (pure, so that it is unit-tested).
enum DoorbellDecision: Equatable {
    /// An earlier outbox read already applied this write.
    case alreadyRead
    /// The keys are not in the payload: the next outbox read applies them.
    case readOutbox
    /// Apply these keys now and leave `rows` out of the next outbox read.
    case applyKeys([String], rows: Set<Int64>)

    static func forNotification(_ message: InvalidationMessage, seen: SnapshotVisibility?) -> DoorbellDecision {
        if let seen, let xid = UInt64(message.transactionID), seen.sees(xid) { return .alreadyRead }
        guard let keys = message.keys else { return .readOutbox }
        let span = message.lastID - message.firstID
        guard span >= 0, span < DoorbellLoop.rememberedRowsPerNotification else { return .applyKeys(keys, rows: []) }
        return .applyKeys(keys, rows: Set(message.firstID...message.lastID))
    }
}
