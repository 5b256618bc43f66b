import CacheModel
import CoreMetrics
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
    private let fills: any InvalidationTarget
    private let settings: InvalidationSettings
    private let eventLoop: any EventLoop
    private let logger: Logger
    package let lags = LagRecorder()
    /// The same lags by the families each write touched, for `QUICKSELL STATS`.
    package let familyLags: [KeyFamily: LagRecorder] = Dictionary(uniqueKeysWithValues: KeyFamily.allCases.map { ($0, LagRecorder()) })
    private let received = Mutex<[KeyFamily: Int]>([:])
    private let applied = Mutex<[KeyFamily: Int]>([:])
    private let leaderboards = Mutex(LeaderboardState())

    private struct LeaderboardState {
        var lastApplied: NIODeadline?
        var pending: [CacheKey: Set<String>] = [:]
        var scheduled = false
    }

    /// Commit-to-applied lag (Prometheus through swift-metrics); nil without metrics.
    private let lagTimer: CoreMetrics.Timer?

    package init(redis: RedisClient, fills: any InvalidationTarget, settings: InvalidationSettings, metricsFactory: (any MetricsFactory)?,
         eventLoop: any EventLoop, logger: Logger) {
        self.lagTimer = metricsFactory.map { CoreMetrics.Timer(label: "quicksell_invalidation_lag_seconds", factory: $0) }
        self.redis = redis
        self.fills = fills
        self.settings = settings
        self.eventLoop = eventLoop
        self.logger = logger
    }

    /// Invalidates the keys of several writes together: as few Redis calls as the keys
    /// allow, each bounded in size. The future completes once Redis has dropped them
    /// (leaderboards may be deferred, see the settings); `progress` counts the groups of calls done.
    package func apply(_ writes: [InvalidationWrite], progress: ApplyProgress = ApplyProgress()) -> EventLoopFuture<Void> {
        var immediate: [(CacheKey, String)] = []
        var familiesByWrite: [Set<KeyFamily>] = []
        for write in writes {
            var deferred: [CacheKey] = []
            var families: Set<KeyFamily> = []
            defer { familiesByWrite.append(families) }
            for name in write.keys {
                guard case .success(let key) = CacheKey.parse(name) else { continue }
                families.insert(key.family)
                if key.family.hasID || settings.leaderboardIntervalSeconds == 0 {
                    immediate.append((key, write.transactionID))
                } else {
                    deferred.append(key)
                }
            }
            if !deferred.isEmpty {
                count(deferred, in: received)
                postpone(deferred, transactionID: write.transactionID)
            }
        }
        count(immediate.map(\.0), in: received)
        guard !immediate.isEmpty else { return eventLoop.makeSucceededVoidFuture() }
        // The calls go out together (pipelined on one connection, so Redis runs them in order,
        // one short script at a time) in groups of `callsInFlight`: one round trip per group
        // instead of one per call, which a loaded machine makes expensive.
        var chain = eventLoop.makeSucceededVoidFuture()
        let groupSize = Self.keysPerCall * Self.callsInFlight
        for groupStart in stride(from: 0, to: immediate.count, by: groupSize) {
            let group = immediate[groupStart..<min(groupStart + groupSize, immediate.count)]
            chain = chain.flatMap { [self] in
                let calls = stride(from: group.startIndex, to: group.endIndex, by: Self.keysPerCall).map { start in
                    unlink(Array(group[start..<min(start + Self.keysPerCall, group.endIndex)]))
                }
                return EventLoopFuture.andAllSucceed(calls, on: eventLoop).map { progress.step() }
            }
        }
        return chain.map { [self, familiesByWrite] in
            let now = WallClock.nowMicroseconds()
            for (write, families) in zip(writes, familiesByWrite) {
                guard let committed = write.committedMicroseconds else { continue }
                let lag = max(0, now - Int(committed))
                lags.record(microseconds: lag)
                lagTimer?.recordMicroseconds(lag)
                for family in families { familyLags[family]?.record(microseconds: lag) }
            }
        }
    }

    /// Detaches every fill in flight and keeps it from storing (Redis restarted).
    package func detachAllFills() {
        fills.invalidateAll()
        fills.invalidatedAll()
    }

    /// Drops every cached key of every family (recovery when replay is impossible).
    /// Returns how many keys were removed.
    package func flushAllFamilies(progress: ApplyProgress = ApplyProgress()) -> EventLoopFuture<Int> {
        // Every fill is detached and no copy in memory takes a value from Redis until the walk
        // has ended: a fill or a read from before the gap must not outlive the flush.
        fills.invalidateAll()
        let scanner = FamilyKeyScanner(redis: redis, eventLoop: eventLoop, progress: { _ in progress.step() })
        return scanner.unlinkAll().always { [fills] _ in fills.invalidatedAll() }
    }

    /// Drops every key of the flush's families (a write with too many keys to unlink one by
    /// one). The families' fills are detached first, and none that read in a snapshot not
    /// seeing the writers will store (every fill in flight when the writers are unknown).
    /// `progress` counts the SCAN steps done: the time depends on what Redis holds.
    package func flushFamilies(_ flush: FamilyFlush, progress: ApplyProgress = ApplyProgress()) -> EventLoopFuture<Int> {
        let writers = flush.transactionIDs.compactMap { UInt64($0) }
        let everything = flush.writersUnknown || writers.isEmpty || writers.count != flush.transactionIDs.count
        if everything {
            fills.invalidateAll()
        } else {
            fills.invalidate(families: flush.families, writtenBy: writers)
        }
        let families = flush.families
        count(families.map { CacheKey(family: $0, id: 0) }, in: received)
        var chain = eventLoop.makeSucceededFuture(0)
        for family in families.sorted(by: { $0.rawValue < $1.rawValue }) {
            let scanner = FamilyKeyScanner(redis: redis, eventLoop: eventLoop, family: family, progress: { _ in progress.step() })
            chain = chain.flatMap { removed in scanner.unlinkAll().map { removed + $0 } }
        }
        return chain.always { [fills] _ in
            if everything { fills.invalidatedAll() } else { fills.invalidated(families: families) }
        }.map { [self] removed in
            count(families.map { CacheKey(family: $0, id: 0) }, in: applied)
            return removed
        }
    }

    /// Keys per invalidation script call: keeps each Redis call short.
    package static let keysPerCall = 1_000
    /// Script calls sent before waiting for their replies.
    package static let callsInFlight = 8

    package var receivedCounts: [KeyFamily: Int] { received.withLock { $0 } }
    package var appliedCounts: [KeyFamily: Int] { applied.withLock { $0 } }

    /// One script call: unlink each key and remember its writer. On a Redis Cluster, one call
    /// per hash slot (a script's keys must share a slot; each key's writers set is in its slot).
    private func unlink(_ pairs: [(CacheKey, String)]) -> EventLoopFuture<Void> {
        let keys = pairs.map(\.0)
        fills.invalidate(keys)
        let calls = redis.slotGroups(pairs) { $0.0.name }.map { unlinkCall($0) }
        return EventLoopFuture.whenAllComplete(calls, on: eventLoop).flatMapThrowing { [fills] results in
            fills.invalidated(keys)  // every call answered: Redis has what it will get
            for result in results { try result.get() }
        }.map { [self] in
            count(keys, in: applied)
        }
    }

    private func unlinkCall(_ pairs: [(CacheKey, String)]) -> EventLoopFuture<Void> {
        let keys = pairs.map(\.0)
        var arguments: [ByteBuffer] = [ByteBuffer(string: String(pairs.count * 2))]
        arguments.reserveCapacity(2 + pairs.count * 3)
        for key in keys {
            let name = key.name
            arguments.append(ByteBuffer(string: name))
            arguments.append(ByteBuffer(string: RedisScripts.writersKey(name)))
        }
        arguments.append(ByteBuffer(string: String(RedisScripts.writerMemoryMilliseconds)))
        for (_, transactionID) in pairs { arguments.append(ByteBuffer(string: transactionID)) }
        return redis.evaluate(RedisScripts.invalidate, arguments, on: eventLoop).flatMapThrowing { reply in
            if case .error(let message) = reply {
                throw InvalidationError.redisRefused(String(buffer: message))
            }
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
                unlink([(key, transactionID)]).whenFailure { [logger] error in
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

/// The keys one committed write invalidates.
package struct InvalidationWrite: Sendable, Equatable {
    package let keys: [String]
    package let transactionID: String
    /// When its transaction committed (µs since the Unix epoch), for the lag.
    package let committedMicroseconds: Int64?
}

/// Why an invalidation could not be applied.
package enum InvalidationError: Error, CustomStringConvertible {
    case redisRefused(String)
    case timedOut
    case stopping

    package var description: String {
        switch self {
        case .redisRefused(let message): return "Redis refused the invalidation: \(message)"
        case .timedOut: return "the invalidation was not confirmed by Redis in time"
        case .stopping: return "the gateway is stopping"
        }
    }
}
