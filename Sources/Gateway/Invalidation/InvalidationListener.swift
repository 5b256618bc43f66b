import Foundation
import Logging
import NIOCore
import Postgres
import RedisBackend
import RESP
import Synchronization

/// The dedicated LISTEN connection: a thread of its own blocks in `poll()` on the
/// connection's socket and applies each notification through the `Invalidator`. With
/// migration 007 it also rings its own doorbell (`Doorbell`, `DoorbellLoop`): writers
/// notify only while it sleeps, and it reads the outbox for the writes that did not.
///
/// Nothing is lost silently: PostgreSQL drops notifications sent while we are
/// disconnected, so after every (re)connect the listener replays the outbox rows of
/// every transaction not visible in the last snapshot it had fully processed (the
/// watermark, kept in memory and in Redis for the next start). When that is impossible
/// (no watermark, or older than the outbox keeps) it flushes every family instead.
/// Either way it counts and logs the recovery.
public final class InvalidationListener: Sendable {
    private let url: String
    private let invalidator: Invalidator
    private let redis: RedisClient
    private let eventLoop: any EventLoop
    private let settings: InvalidationSettings
    private let hooks: InvalidationHooks
    private let logger: Logger
    private let state = Mutex(ListenerStatus())
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    /// Signalled once the first connection attempt (and its recovery) is over.
    private let firstAttempt = DispatchSemaphore(value: 0)

    static let channel = DoorbellLoop.channel
    static let watermarkKey = "quicksell:invalidation:watermark"
    /// How often the processed snapshot is advanced and published.
    private let tick: TimeInterval = 0.25
    private let trimEvery: TimeInterval = 60

    init(url: String, invalidator: Invalidator, redis: RedisClient, eventLoop: any EventLoop,
         settings: InvalidationSettings, hooks: InvalidationHooks = InvalidationHooks(), logger: Logger) {
        self.url = url
        self.hooks = hooks
        self.invalidator = invalidator
        self.redis = redis
        self.eventLoop = eventLoop
        self.settings = settings
        self.logger = logger
    }

    public var status: ListenerStatus { state.withLock { $0 } }

    /// Starts listening; returns once the first connection and its recovery are done
    /// (or failed, or `timeout` passed), so that nothing is served from a cache that
    /// recovery is about to clean.
    func start(timeout: TimeInterval = 5) {
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = "quicksell-invalidation-listener"
        thread.start()
        _ = firstAttempt.wait(timeout: .now() + timeout)
    }

    func stop() {
        stopping.store(true, ordering: .relaxed)
        _ = finished.wait(timeout: .now() + 3)
    }

    // MARK: - The loop

    private func run() {
        var watermark: Watermark?
        var firstConnect = true
        var backoff: TimeInterval = 0.05
        var lastReportedError: String?
        var signalledFirstAttempt = false
        defer { if !signalledFirstAttempt { firstAttempt.signal() } }
        while !stopping.load(ordering: .relaxed) {
            do {
                let connection = try PostgresConnection(
                    url: url, applicationName: "quicksell-gateway listener", connectTimeoutSeconds: 2)
                try connection.execute("LISTEN \(Self.channel)")
                let doorbell = try Doorbell.register(connection)
                let listening = try snapshot(connection)
                if firstConnect {
                    try recoverAtStart(connection)
                    firstConnect = false
                } else if let known = watermark {
                    try recover(connection, since: known)
                }
                // Everything committed before `listening` is now invalidated; the rest
                // arrives as notifications.
                watermark = listening
                publish(listening)
                state.withLock {
                    $0.connected = true
                    $0.lastError = nil
                }
                if lastReportedError != nil { logger.notice("invalidation listener connected again") }
                lastReportedError = nil
                backoff = 0.05
                if !signalledFirstAttempt {
                    signalledFirstAttempt = true
                    firstAttempt.signal()
                }
                try listen(connection, doorbell: doorbell, from: listening) { watermark = $0 }
                doorbell.unregister(connection)
            } catch {
                let reason = "\(error)"
                state.withLock {
                    if $0.connected { $0.reconnects += 1 }
                    $0.connected = false
                    $0.lastError = reason
                }
                if !signalledFirstAttempt {
                    signalledFirstAttempt = true
                    firstAttempt.signal()
                }
                if reason != lastReportedError && !stopping.load(ordering: .relaxed) {
                    logger.warning("invalidation listener disconnected; invalidation is degraded until it reconnects",
                                   metadata: ["error": "\(reason)"])
                    lastReportedError = reason
                }
                sleepUnlessStopping(backoff)
                backoff = min(backoff * 2, 2)
            }
        }
        state.withLock { $0.connected = false }
    }

    /// Receives notifications and reads the outbox (see `DoorbellLoop`) until the
    /// connection fails or the gateway stops; publishes the watermark every tick.
    private func listen(_ connection: PostgresConnection, doorbell: Doorbell, from start: Watermark,
                        advance: (Watermark) -> Void) throws {
        let loop = try DoorbellLoop(
            connection: connection, doorbell: doorbell, watermark: start, hooks: hooks, logger: logger,
            countNotification: { [self] in state.withLock { $0.notifications += 1 } },
            apply: { [self] writes in
                // Once the gateway stops, its event loops go away: apply nothing more.
                guard !stopping.load(ordering: .relaxed) else { throw InvalidationError.stopping }
                try wait(invalidator.apply(writes))
            })
        var lastTick = Date()
        var lastTrim = Date.distantPast
        while !stopping.load(ordering: .relaxed) {
            try waitForInput(connection, timeoutMilliseconds: loop.pollTimeoutMilliseconds)
            try connection.consumeInput()
            try loop.step()
            advance(loop.watermark)
            if Date().timeIntervalSince(lastTick) >= tick {
                publish(loop.watermark)
                lastTick = Date()
            }
            if Date().timeIntervalSince(lastTrim) >= trimEvery {
                try trim(connection)
                lastTrim = Date()
            }
        }
    }

    // MARK: - Recovery

    /// At start: replay from the watermark a previous gateway left in Redis; without one,
    /// drop whatever Redis holds of the families (it may predate writes nobody saw).
    private func recoverAtStart(_ connection: PostgresConnection) throws {
        let stored = try wait(redis.send(["GET", Self.watermarkKey], on: eventLoop))
        if case .bulkString(let text) = stored, let watermark = Watermark(stored: String(buffer: text)) {
            try recover(connection, since: watermark)
        } else {
            try flushEverything(reason: "no invalidation watermark in Redis")
        }
    }

    /// Replays every outbox row of a transaction not visible in `watermark`.
    private func recover(_ connection: PostgresConnection, since watermark: Watermark) throws {
        if Date().timeIntervalSince1970 - watermark.takenAt > Double(settings.logRetentionSeconds) * 0.9 {
            try flushEverything(reason: "the last processed snapshot is older than the outbox keeps")
            return
        }
        let rows = try connection.query("""
            SELECT xid::text, keys FROM cache_invalidations
            WHERE xid >= pg_snapshot_xmin($1::pg_snapshot) AND NOT pg_visible_in_snapshot(xid, $1::pg_snapshot)
            ORDER BY id
            """, [watermark.snapshot])
        var writes: [InvalidationWrite] = []
        for row in rows.rows {
            guard let transactionID = row.first ?? nil else { continue }
            writes.append(InvalidationWrite(
                keys: Self.parseArray(row.count > 1 ? row[1] : nil), transactionID: transactionID, triggerMicroseconds: nil))
        }
        let replayed = writes.reduce(0) { $0 + $1.keys.count }
        try wait(invalidator.apply(writes))
        state.withLock {
            $0.recoveries += 1
            $0.replayedKeys += replayed
        }
        logger.notice("invalidation recovery: replayed missed writes", metadata: [
            "rows": "\(rows.rows.count)", "keys": "\(replayed)"])
    }

    private func flushEverything(reason: String) throws {
        let removed = try wait(invalidator.flushAllFamilies())
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

    private func trim(_ connection: PostgresConnection) throws {
        try connection.query(
            "DELETE FROM cache_invalidations WHERE created_at < now() - make_interval(secs => $1::integer)",
            [String(settings.logRetentionSeconds)])
    }

    // MARK: - Helpers

    private func snapshot(_ connection: PostgresConnection) throws -> Watermark {
        guard let text = try connection.execute("SELECT pg_current_snapshot()::text").scalar else {
            throw PostgresError.unexpectedValue(column: "pg_current_snapshot", value: nil)
        }
        return Watermark(snapshot: text, takenAt: Date().timeIntervalSince1970)
    }

    private func publish(_ watermark: Watermark) {
        redis.send(["SET", Self.watermarkKey, watermark.stored], on: eventLoop).whenFailure { _ in }
    }

    private func waitForInput(_ connection: PostgresConnection, timeoutMilliseconds: Int32) throws {
        var descriptor = pollfd(fd: connection.socketDescriptor, events: Int16(POLLIN), revents: 0)
        guard descriptor.fd >= 0 else {
            throw PostgresError.connectionLost(address: connection.address, message: "socket closed")
        }
        _ = poll(&descriptor, 1, timeoutMilliseconds)
    }

    /// Blocks this (dedicated) thread until a backend call completes, bounded in time.
    private func wait<Value: Sendable>(_ future: EventLoopFuture<Value>) throws -> Value {
        let semaphore = DispatchSemaphore(value: 0)
        let result = Mutex<Result<Value, any Error>?>(nil)
        future.whenComplete { outcome in
            result.withLock { $0 = outcome }
            semaphore.signal()
        }
        guard semaphore.wait(timeout: .now() + 15) == .success, let outcome = result.withLock({ $0 }) else {
            throw InvalidationError.timedOut
        }
        return try outcome.get()
    }

    private func sleepUnlessStopping(_ seconds: TimeInterval) {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline && !stopping.load(ordering: .relaxed) { usleep(10_000) }
    }

    /// `{a,b,c}` (a text[] in PostgreSQL's text form; cache keys need no quoting) → [a, b, c].
    static func parseArray(_ text: String?) -> [String] {
        guard let text, text.count >= 2 else { return [] }
        return text.dropFirst().dropLast().split(separator: ",").map { String($0).trimmingCharacters(in: ["\""]) }
    }
}

/// A PostgreSQL snapshot all of whose committed writes have been invalidated.
struct Watermark: Sendable, Equatable {
    let snapshot: String
    let takenAt: TimeInterval

    init(snapshot: String, takenAt: TimeInterval) {
        self.snapshot = snapshot
        self.takenAt = takenAt
    }

    /// `snapshot|unix seconds`, as kept in Redis.
    init?(stored: String) {
        let parts = stored.split(separator: "|")
        guard parts.count == 2, let takenAt = TimeInterval(parts[1]), parts[0].contains(":") else { return nil }
        self.snapshot = String(parts[0])
        self.takenAt = takenAt
    }

    var stored: String { "\(snapshot)|\(takenAt)" }
}
