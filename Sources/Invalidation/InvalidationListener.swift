import Foundation
import Logging
import NIOCore
import Postgres
import RedisBackend
import Synchronization

/// Streams the invalidation messages of migration 008 from the gateway's logical
/// replication slot and applies them through the `Invalidator`, on a thread of its own
/// that blocks in `poll()` on the replication connection.
///
/// Nothing is lost silently: the slot keeps every committed transaction's messages until
/// the listener confirms it, and the listener confirms a transaction only after Redis has
/// dropped its keys. After a disconnect, a Redis failure or a restart, PostgreSQL streams
/// again from the last confirmed transaction (a recovery). Only a new slot (first start,
/// or PostgreSQL dropped the old one's WAL) cannot know what was written before it; the
/// listener then flushes every family. Either way it counts and logs the recovery.
public final class InvalidationListener: Sendable {
    private let url: String
    private let invalidator: Invalidator
    private let slot: ReplicationSlot
    private let hooks: InvalidationHooks
    private let logger: Logger
    private let state = Mutex(ListenerStatus())
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    /// Signalled once the first connection has caught up with what the slot held (or failed).
    private let firstAttempt = DispatchSemaphore(value: 0)

    /// Keys read into one batch before it is applied, and applied (and confirmed by Redis)
    /// together at most.
    package static let keysPerApply = 20_000
    /// How often the confirmed position is reported while it moves, and while idle.
    private let feedbackInterval: TimeInterval = 0.1
    private let idleFeedbackInterval: TimeInterval = 10
    private let pollMilliseconds: Int32 = 100

    package init(url: String, invalidator: Invalidator, settings: InvalidationSettings,
         hooks: InvalidationHooks = InvalidationHooks(), logger: Logger) {
        self.url = url
        self.hooks = hooks
        self.invalidator = invalidator
        self.slot = ReplicationSlot(name: settings.replicationSlot)
        self.logger = logger
    }

    public var status: ListenerStatus { state.withLock { $0 } }

    /// The slot's name, for `INFO invalidation`.
    package var slotName: String { slot.name }

    /// Starts listening; returns once the first connection has replayed what the slot
    /// held (or failed, or `timeout` passed), so that nothing is served from a cache that
    /// recovery is about to clean.
    package func start(timeout: TimeInterval = 5) {
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = "quicksell-invalidation-listener"
        thread.start()
        _ = firstAttempt.wait(timeout: .now() + timeout)
    }

    package func stop() {
        stopping.store(true, ordering: .relaxed)
        _ = finished.wait(timeout: .now() + 3)
    }

    // MARK: - The loop

    private func run() {
        var backoff: TimeInterval = 0.05
        var lastReportedError: String?
        var signalledFirstAttempt = false
        let signalFirstAttempt = {
            if !signalledFirstAttempt {
                signalledFirstAttempt = true
                self.firstAttempt.signal()
            }
        }
        defer { signalFirstAttempt() }
        while !stopping.load(ordering: .relaxed) {
            do {
                let connection = try PostgresConnection(
                    url: url, applicationName: "quicksell-gateway listener", connectTimeoutSeconds: 2, replication: true)
                let preparation = try slot.prepare(connection)
                if case .created(let replacedLost) = preparation {
                    do {
                        try flushEverything(reason: replacedLost
                            ? "PostgreSQL dropped the WAL of replication slot \(slot.name); it was made again"
                            : "new replication slot \(slot.name): writes made before it are unknown")
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
                if lastReportedError != nil { logger.notice("invalidation listener connected again") }
                lastReportedError = nil
                backoff = 0.05
                try stream(connection, resumed: preparation == .resumed, caughtUpAt: caughtUpAt,
                           onCaughtUp: signalFirstAttempt)
            } catch {
                let reason = "\(error)"
                state.withLock {
                    if $0.connected { $0.reconnects += 1 }
                    $0.connected = false
                    $0.caughtUp = false
                    $0.lastError = reason
                }
                signalFirstAttempt()
                if reason != lastReportedError && !stopping.load(ordering: .relaxed) {
                    logger.warning("invalidation listener disconnected; invalidation is degraded until it reconnects",
                                   metadata: ["error": "\(reason)"])
                    lastReportedError = reason
                }
                sleepUnlessStopping(backoff)
                backoff = min(backoff * 2, 2)
            }
        }
        state.withLock {
            $0.connected = false
            $0.caughtUp = false
        }
    }

    /// Applies the stream's transactions until the connection fails or the gateway stops,
    /// confirming each position once Redis has dropped the keys committed before it.
    private func stream(_ connection: PostgresConnection, resumed: Bool, caughtUpAt: UInt64,
                        onCaughtUp: () -> Void) throws {
        var transactions = InvalidationTransactions()
        var pending = PendingApplies()
        var confirmed: UInt64 = 0
        var lastFeedback = Date()
        var catchingUp = true
        var replayedKeys = 0
        defer {
            // Stopping: confirm what was applied, so that the next start does not replay it.
            try? pending.collectFinished()
            if pending.appliedPosition > confirmed {
                _ = try? connection.sendStreamMessage(ReplicationMessage.statusUpdate(
                    confirming: pending.appliedPosition, clock: Self.postgresClock()))
            }
        }
        while !stopping.load(ordering: .relaxed) {
            // With applies in flight, wake soon to confirm them even if the stream is quiet.
            _ = try waitForInput(connection, timeoutMilliseconds: pending.isEmpty ? pollMilliseconds : 1)
            var batch: [InvalidationWrite] = []
            var batchKeys = 0
            var batchEnd: UInt64?
            var replyRequested = false
            // Everything the socket holds goes into one batch (libpq reads a few tens of KiB per
            // call): one Redis call per batch, so a busy stream makes bigger batches instead of a
            // growing backlog. The batch is applied while the next one is read (`PendingApplies`).
            repeat {
                try connection.consumeInput()
                while let bytes = try connection.readStreamMessage() {
                    switch try ReplicationMessage.decode(bytes) {
                    case .keepalive(let walEnd, let reply):
                        replyRequested = replyRequested || reply
                        // Every transaction that committed before walEnd was sent before this
                        // keepalive: once those are applied, the position is safe to confirm.
                        if !transactions.inTransaction { batchEnd = max(batchEnd ?? 0, walEnd) }
                    case .data(_, let payload):
                        guard let completed = transactions.receive(payload) else { continue }
                        state.withLock { $0.notifications += completed.writes.count }
                        batch += completed.writes
                        batchKeys += completed.writes.reduce(0) { $0 + $1.keys.count }
                        if let end = completed.endLSN { batchEnd = max(batchEnd ?? 0, end) }
                    }
                }
            } while try batchKeys < Self.keysPerApply && waitForInput(connection, timeoutMilliseconds: 0)
            for content in transactions.takeMalformed() {
                logger.warning("ignoring a malformed invalidation message", metadata: ["content": "\(content)"])
            }
            if !batch.isEmpty {
                if catchingUp {
                    // Replayed writes measure how long the gateway was away, not invalidation lag.
                    replayedKeys += batchKeys
                    batch = batch.map { InvalidationWrite(keys: $0.keys, transactionID: $0.transactionID, committedMicroseconds: nil) }
                }
                try apply(batch, confirming: batchEnd, into: &pending)
            } else if let batchEnd {
                pending.add(confirming: batchEnd)
            }
            try pending.collectFinished()
            let applied = pending.appliedPosition
            if catchingUp && applied >= caughtUpAt {
                catchingUp = false
                state.withLock { $0.caughtUp = true }
                if resumed { countRecovery(replayedKeys: replayedKeys) }
                onCaughtUp()
            }
            let sinceFeedback = Date().timeIntervalSince(lastFeedback)
            if applied > 0 && (replyRequested || (applied > confirmed && sinceFeedback >= feedbackInterval)
                               || sinceFeedback >= idleFeedbackInterval) {
                try connection.sendStreamMessage(ReplicationMessage.statusUpdate(
                    confirming: applied, clock: Self.postgresClock()))
                confirmed = applied
                lastFeedback = Date()
                state.withLock { $0.confirmedPosition = confirmed }
            }
        }
    }

    /// Sends `writes` to Redis in slices of about `keysPerApply` keys, each confirmed by Redis
    /// within its own time limit (a bulk statement or a backlog must not time out as a whole),
    /// without waiting for them unless `appliesInFlight` are already on their way.
    private func apply(_ writes: [InvalidationWrite], confirming position: UInt64?,
                       into pending: inout PendingApplies) throws {
        hooks.beforeApply?()
        var start = writes.startIndex
        while start < writes.endIndex {
            // Once the gateway stops, its event loops go away: apply nothing more.
            guard !stopping.load(ordering: .relaxed) else { throw InvalidationError.stopping }
            var end = start
            var keys = 0
            while end < writes.endIndex && (end == start || keys + writes[end].keys.count <= Self.keysPerApply) {
                keys += writes[end].keys.count
                end += 1
            }
            while pending.count >= Self.appliesInFlight {
                try pending.waitForOldest()
            }
            pending.add(invalidator.apply(Array(writes[start..<end])),
                        confirming: end == writes.endIndex ? position : nil)
            start = end
        }
    }

    /// Batches sent to Redis before the listener waits for the oldest of them.
    package static let appliesInFlight = 16

    // MARK: - Recovery

    private func countRecovery(replayedKeys: Int) {
        state.withLock {
            $0.recoveries += 1
            $0.replayedKeys += replayedKeys
        }
        logger.notice("invalidation recovery: replayed the writes kept in the replication slot", metadata: [
            "slot": "\(slot.name)", "keys": "\(replayedKeys)"])
    }

    private func flushEverything(reason: String) throws {
        let removed = try BlockingOutcome(invalidator.flushAllFamilies()).wait(limit: .seconds(15))
        guard removed > 0 else {
            logger.info("invalidation: nothing cached to recover", metadata: ["reason": "\(reason)"])
            return
        }
        state.withLock {
            $0.recoveries += 1
            $0.flushes += 1
        }
        logger.notice("invalidation recovery: flushed every family", metadata: ["reason": "\(reason)", "keys": "\(removed)"])
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

    /// Now in microseconds since 2000-01-01 (PostgreSQL's clock, for status updates).
    private static func postgresClock() -> Int64 {
        Int64(Date().timeIntervalSince1970 * 1_000_000) - ReplicationMessage.postgresEpochOffsetMicroseconds
    }

    /// Waits until the connection's socket is readable or `timeoutMilliseconds` passed;
    /// true when it is readable.
    private func waitForInput(_ connection: PostgresConnection, timeoutMilliseconds: Int32) throws -> Bool {
        var descriptor = pollfd(fd: connection.socketDescriptor, events: Int16(POLLIN), revents: 0)
        guard descriptor.fd >= 0 else {
            throw PostgresError.connectionLost(address: connection.address, message: "socket closed")
        }
        return poll(&descriptor, 1, timeoutMilliseconds) > 0
    }

    private func sleepUnlessStopping(_ seconds: TimeInterval) {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline && !stopping.load(ordering: .relaxed) { usleep(10_000) }
    }
}

