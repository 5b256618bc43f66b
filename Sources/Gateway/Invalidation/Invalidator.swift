import Logging
import NIOCore
import RedisBackend
import RESP
import Synchronization

/// Applies invalidations: detaches the keys' in-flight fills, records the writer and
/// unlinks the keys in Redis (one script call per write), and coalesces leaderboard
/// invalidations. Counts what it did per family.
public final class Invalidator: Sendable {
    private let redis: RedisClient
    private let fills: FillCoordinator
    private let settings: InvalidationSettings
    private let eventLoop: any EventLoop
    private let logger: Logger
    let lags = LagRecorder()
    private let received = Mutex<[KeyFamily: Int]>([:])
    private let applied = Mutex<[KeyFamily: Int]>([:])
    private let leaderboards = Mutex(LeaderboardState())

    private struct LeaderboardState {
        var lastApplied: NIODeadline?
        var pending: [CacheKey: Set<String>] = [:]
        var scheduled = false
    }

    init(redis: RedisClient, fills: FillCoordinator, settings: InvalidationSettings, eventLoop: any EventLoop, logger: Logger) {
        self.redis = redis
        self.fills = fills
        self.settings = settings
        self.eventLoop = eventLoop
        self.logger = logger
    }

    /// Invalidates `keys` written by transaction `transactionID`. The future completes
    /// once Redis has dropped them (leaderboards may be deferred, see the settings).
    func apply(keys names: [String], transactionID: String, triggerMicroseconds: Int64?) -> EventLoopFuture<Void> {
        var immediate: [CacheKey] = []
        var deferred: [CacheKey] = []
        for name in names {
            guard case .success(let key) = CacheKey.parse(name) else { continue }
            if key.family.hasID || settings.leaderboardIntervalSeconds == 0 {
                immediate.append(key)
            } else {
                deferred.append(key)
            }
        }
        count(immediate + deferred, in: received)
        if !deferred.isEmpty { postpone(deferred, transactionID: transactionID) }
        guard !immediate.isEmpty else { return eventLoop.makeSucceededVoidFuture() }
        // Bulk writes: script calls of bounded size, one after another, so that no call
        // waits behind hundreds of others (and Redis never blocks for long).
        var chain = eventLoop.makeSucceededVoidFuture()
        for start in stride(from: 0, to: immediate.count, by: Self.keysPerCall) {
            let chunk = Array(immediate[start..<min(start + Self.keysPerCall, immediate.count)])
            chain = chain.flatMap { [self] in unlink(chunk, transactionID: transactionID) }
        }
        return chain.map { [self] in
            if let triggerMicroseconds {
                let lag = CommandDispatcher.nowMicroseconds() - Int(triggerMicroseconds)
                lags.record(microseconds: max(0, lag))
            }
        }
    }

    /// Drops every cached key of every family (recovery when replay is impossible).
    /// Returns how many keys were removed.
    func flushAllFamilies() -> EventLoopFuture<Int> {
        let scanner = FamilyKeyScanner(redis: redis, eventLoop: eventLoop)
        return scanner.unlinkAll()
    }

    /// Keys per invalidation script call: keeps each Redis call short.
    static let keysPerCall = 500

    var receivedCounts: [KeyFamily: Int] { received.withLock { $0 } }
    var appliedCounts: [KeyFamily: Int] { applied.withLock { $0 } }

    private func unlink(_ keys: [CacheKey], transactionID: String) -> EventLoopFuture<Void> {
        fills.invalidate(keys)
        var command: [ByteBuffer] = [
            ByteBuffer(string: "EVAL"), RedisScripts.invalidate, ByteBuffer(string: String(keys.count * 2)),
        ]
        command.reserveCapacity(3 + keys.count * 2 + 2)
        for key in keys {
            let name = key.name
            command.append(ByteBuffer(string: name))
            command.append(ByteBuffer(string: RedisScripts.writersKey(name)))
        }
        command.append(ByteBuffer(string: transactionID))
        command.append(ByteBuffer(string: String(RedisScripts.writerMemoryMilliseconds)))
        return redis.send(command, on: eventLoop).flatMapThrowing { [self] reply in
            if case .error(let message) = reply {
                throw InvalidationError.redisRefused(String(buffer: message))
            }
            count(keys, in: applied)
        }
    }

    /// Holds leaderboard invalidations so that they run at most once per interval.
    private func postpone(_ keys: [CacheKey], transactionID: String) {
        let interval = TimeAmount.seconds(Int64(settings.leaderboardIntervalSeconds))
        let now = NIODeadline.now()
        let delay: TimeAmount? = leaderboards.withLock { state in
            for key in keys { state.pending[key, default: []].insert(transactionID) }
            guard !state.scheduled else { return nil }
            state.scheduled = true
            guard let last = state.lastApplied else { return .zero }
            let due = last + interval
            return due > now ? due - now : .zero
        }
        guard let delay else { return }
        eventLoop.scheduleTask(in: delay) { [self] in flushLeaderboards() }
    }

    private func flushLeaderboards() {
        let pending = leaderboards.withLock { state -> [CacheKey: Set<String>] in
            let pending = state.pending
            state.pending = [:]
            state.scheduled = false
            state.lastApplied = .now()
            return pending
        }
        for (key, transactions) in pending {
            for transactionID in transactions {
                unlink([key], transactionID: transactionID).whenFailure { [logger] error in
                    logger.warning("leaderboard invalidation failed", metadata: ["key": "\(key.name)", "error": "\(error)"])
                }
            }
        }
    }

    private func count(_ keys: [CacheKey], in counters: borrowing Mutex<[KeyFamily: Int]>) {
        counters.withLock { counts in
            for key in keys { counts[key.family, default: 0] += 1 }
        }
    }
}

/// Why an invalidation could not be applied.
enum InvalidationError: Error, CustomStringConvertible {
    case redisRefused(String)
    case timedOut

    var description: String {
        switch self {
        case .redisRefused(let message): return "Redis refused the invalidation: \(message)"
        case .timedOut: return "the invalidation was not confirmed by Redis in time"
        }
    }
}
