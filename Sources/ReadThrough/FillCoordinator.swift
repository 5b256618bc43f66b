import CacheModel
import CoreMetrics
import Logging
import NIOCore
import Postgres
import Synchronization

/// Fills misses from PostgreSQL with single flight and batching.
///
/// - Single flight: concurrent misses on one key share one query; a miss that arrives
///   just after the fill (before Redis has the value) reuses the result for a short grace.
/// - Batching: while a query of a family runs, further misses of that family queue and
///   leave together in one `= ANY($1)` query as soon as it returns, so there is no added
///   latency at low load and few, large queries at high load. A second query of the family
///   runs in parallel (up to the pool size) only when many misses wait or the running query
///   is slow: on a small machine, parallel small batches cost more CPU per row than they save
///   in waiting (measured: 18k fills/s with one query at a time, 12k with four).
/// - Invalidation: `invalidate` detaches the keys' fills, so no later request joins a
///   fill that may predate the write, and their results are not reused.
package final class FillCoordinator: Sendable {
    private let pool: PostgresPool
    private let settings: CacheSettings
    private let stats: FamilyStats
    private let hooks: FillHooks
    private let logger: Logger
    private let state = Mutex(State())
    /// Moved by every invalidation below, for `WATCH`.
    package let epochs = InvalidationEpochs()
    /// Bumped when Redis restarted: fills that began before must not store what they
    /// read, since the writers recorded in the old Redis (the stale-set guard) are gone.
    private let storeEpoch = Atomic<Int>(0)
    /// How long a finished fill keeps answering misses of its key.
    private let grace: TimeAmount = .seconds(1)
    /// Queries of one family that may run at once.
    private let concurrencyPerFamily: Int
    /// Misses waiting that justify a parallel query of a family that has one running.
    private static let parallelBatchThreshold = 64
    /// How long a family's latest batch may run before waiting misses get a parallel query.
    private static let parallelAfter: TimeAmount = .milliseconds(5)
    /// Misses that may wait for a query slot (`postgres.max_queued`); beyond that a miss
    /// is refused at once, so a slow PostgreSQL sheds load instead of piling up requests.
    private let maxWaiting: Int

    /// Called with the filled keys of a batch that share a loop (that of each key's first
    /// requester), on that loop, to store them.
    package typealias Store = @Sendable ([(CacheKey, FilledValue)], any EventLoop) -> Void

    /// One key's fill: shared by every request that joins it.
    private struct Entry {
        let token: Int
        let promise: EventLoopPromise<FilledValue>
        var result: FilledValue?
        var finishedAt: NIODeadline?
    }

    /// A key waiting in, or travelling with, a batch.
    private struct Item {
        let key: CacheKey
        let token: Int
        let promise: EventLoopPromise<FilledValue>
    }

    private struct State {
        var entries: [CacheKey: Entry] = [:]
        var queued: [KeyFamily: [Item]] = [:]
        var running: [KeyFamily: Int] = [:]
        /// When each family's latest batch began.
        var batchStarted: [KeyFamily: NIODeadline] = [:]
        /// Keys in `queued`, all families together.
        var waiting = 0
        var nextToken = 0
    }

    /// Fill query durations per family (Prometheus through swift-metrics); empty without metrics.
    private let fillDurations: [KeyFamily: CoreMetrics.Timer]
    private let failureLog: LogOnce

    package init(pool: PostgresPool, settings: CacheSettings, stats: FamilyStats, hooks: FillHooks, metricsFactory: (any MetricsFactory)?,
         logger: Logger) {
        var fillDurations: [KeyFamily: CoreMetrics.Timer] = [:]
        if let metricsFactory {
            for family in KeyFamily.allCases {
                fillDurations[family] = CoreMetrics.Timer(
                    label: "quicksell_fill_duration_seconds", dimensions: [("family", family.name)], factory: metricsFactory)
            }
        }
        self.fillDurations = fillDurations
        self.failureLog = LogOnce(logger: logger, subject: "filling from PostgreSQL")
        self.pool = pool
        self.settings = settings
        self.stats = stats
        self.hooks = hooks
        self.logger = logger
        self.concurrencyPerFamily = max(1, pool.configuration.size)
        self.maxWaiting = pool.configuration.maxQueued
    }

    /// The value of `key` from PostgreSQL (shared with concurrent fills of the same key).
    package func fill(_ key: CacheKey, on eventLoop: any EventLoop, store: @escaping Store) -> EventLoopFuture<FilledValue> {
        fill([key], on: eventLoop, store: store)[0]
    }

    /// Fills several keys; misses of one family submitted together leave in one query.
    package func fill(_ keys: [CacheKey], on eventLoop: any EventLoop, store: @escaping Store) -> [EventLoopFuture<FilledValue>] {
        let now = NIODeadline.now()
        let maxWaiting = self.maxWaiting
        let (futures, batches) = state.withLock { state -> ([EventLoopFuture<FilledValue>], [[Item]]) in
            var futures: [EventLoopFuture<FilledValue>] = []
            futures.reserveCapacity(keys.count)
            var touched: Set<KeyFamily> = []
            for key in keys {
                if let entry = state.entries[key] {
                    guard let result = entry.result, let finishedAt = entry.finishedAt else {
                        futures.append(entry.promise.futureResult)
                        continue
                    }
                    if now - finishedAt < grace {
                        futures.append(eventLoop.makeSucceededFuture(result))
                        continue
                    }
                }
                // A query about to start takes the key; otherwise it waits, if there is room.
                if !startsQuery(key.family, state, now: now, adding: 1) && state.waiting >= maxWaiting {
                    stats[key.family].shed.add(1, ordering: .relaxed)
                    futures.append(eventLoop.makeFailedFuture(PostgresPoolError.overloaded(queued: state.waiting)))
                    continue
                }
                let promise = eventLoop.makePromise(of: FilledValue.self)
                state.waiting += 1
                state.nextToken += 1
                state.entries[key] = Entry(token: state.nextToken, promise: promise)
                state.queued[key.family, default: []].append(Item(key: key, token: state.nextToken, promise: promise))
                touched.insert(key.family)
                futures.append(promise.futureResult)
            }
            var batches: [[Item]] = []
            for family in touched {
                while startsQuery(family, state, now: now, adding: 0),
                      let batch = Self.takeBatch(family, from: &state, max: settings.maxBatchSize) {
                    state.running[family, default: 0] += 1
                    state.batchStarted[family] = now
                    batches.append(batch)
                }
            }
            return (futures, batches)
        }
        for batch in batches { run(batch, on: eventLoop, store: store) }
        return futures.map { $0.hop(to: eventLoop) }
    }

    /// Detaches the fills of these keys: later requests start new fills, and finished
    /// results are no longer reused. Called when the keys are invalidated.
    package func invalidate(_ keys: [CacheKey]) {
        epochs.bump(keys)
        state.withLock { state in
            for key in keys { state.entries[key] = nil }
        }
    }

    /// Detaches every fill of `family` (a family flush).
    package func invalidate(family: KeyFamily) {
        epochs.bump(family: family)
        state.withLock { state in
            state.entries = state.entries.filter { $0.key.family != family }
        }
    }

    /// Detaches every fill and keeps the ones in flight from storing their values
    /// (called when Redis restarted and lost its record of recent writers).
    package func invalidateAll() {
        storeEpoch.add(1, ordering: .sequentiallyConsistent)
        epochs.bumpAll()
        state.withLock { $0.entries.removeAll() }
    }

    /// Whether a query of `family` starts now for what waits (plus `adding` keys about to queue):
    /// always when none runs; in parallel only for a long queue or a slow running batch.
    private func startsQuery(_ family: KeyFamily, _ state: State, now: NIODeadline, adding: Int) -> Bool {
        let running = state.running[family, default: 0]
        if running == 0 { return true }
        guard running < concurrencyPerFamily else { return false }
        if (state.queued[family]?.count ?? 0) + adding >= Self.parallelBatchThreshold { return true }
        guard let started = state.batchStarted[family] else { return true }
        return now - started >= Self.parallelAfter
    }

    private static func takeBatch(_ family: KeyFamily, from state: inout State, max: Int) -> [Item]? {
        guard var queue = state.queued[family], !queue.isEmpty else { return nil }
        let batch = Array(queue.prefix(family.hasID ? max : 1))
        queue.removeFirst(batch.count)
        state.waiting -= batch.count
        state.queued[family] = queue.isEmpty ? nil : queue
        return batch
    }

    /// Runs `first` and then, on the same pool thread and connection, the batches that queued
    /// meanwhile (at most `batchesPerTurn`, so one family cannot hold a thread that others wait
    /// for). A thread that goes straight on to the next batch saves two thread wake-ups per
    /// query: the event loop's for the result and the pool thread's for the next query.
    private func run(_ first: [Item], on eventLoop: any EventLoop, store: @escaping Store) {
        guard let family = first.first?.key.family else { return }
        pool.run(on: eventLoop) { [self] connection in
            var batch = first
            for turn in 1...Self.batchesPerTurn {
                if !runBatch(batch, family: family, connection: connection, store: store) {
                    next(family, on: eventLoop, store: store)
                    throw DeliveredFailure()  // the pool counts the failure and drops a broken connection
                }
                if turn == Self.batchesPerTurn {
                    next(family, on: eventLoop, store: store)
                } else if let queued = takeBatchOrFreeSlot(family) {
                    batch = queued
                    continue
                }
                return
            }
        }.whenFailure { [self] error in
            // Failures from inside the work were handed to their batch already.
            guard !(error is DeliveredFailure) else { return }
            failFill(first, family: family, error: error)
            next(family, on: eventLoop, store: store)
        }
    }

    /// Consecutive batches one pool job may run before it queues behind other work.
    private static let batchesPerTurn = 16

    /// A query failure already handed to the batch it belongs to.
    private struct DeliveredFailure: Error {}

    /// Queries one batch and hands out its outcome; returns whether the query succeeded.
    private func runBatch(
        _ batch: [Item], family: KeyFamily, connection: PooledConnection, store: @escaping Store
    ) -> Bool {
        let counters = stats[family]
        let started = NIODeadline.now()
        let keys = batch.map(\.key)
        let epoch = storeEpoch.load(ordering: .sequentiallyConsistent)
        let result = Result { () throws -> [CacheKey: FilledValue] in
            let values = try Self.query(keys, family: family, settings: settings, connection: connection)
            hooks.afterQuery?(keys)
            return values
        }
        let nanoseconds = (NIODeadline.now() - started).nanoseconds
        fillDurations[family]?.recordNanoseconds(nanoseconds)
        counters.queries.add(1, ordering: .relaxed)
        counters.fillMicroseconds.add(Int(nanoseconds / 1000), ordering: .relaxed)
        switch result {
        case .success(let values):
            failureLog.success()
            finish(batch, values: values, epoch: epoch, store: store)
            return true
        case .failure(let error):
            failFill(batch, family: family, error: error)
            return false
        }
    }

    /// Counts and logs a failed fill and fails its requests.
    private func failFill(_ batch: [Item], family: KeyFamily, error: any Error) {
        stats[family].fillErrors.add(1, ordering: .relaxed)
        failureLog.failure(error, metadata: ["family": "\(family.name)"])
        fail(batch, error: error)
    }

    private static func query(
        _ batch: [CacheKey], family: KeyFamily, settings: CacheSettings, connection: PooledConnection
    ) throws -> [CacheKey: FilledValue] {
        let name = FamilyQueries.statementName(family)
        let sql = FamilyQueries.sql(family)
        if !family.hasID {
            let result = try connection.execute(prepared: name, sql: sql, [String(settings.leaderboardSize)])
            guard let row = result.rows.first, row.count == 3, let snapshot = row[2] else {
                throw PostgresError.unexpectedValue(column: "snapshot", value: nil)
            }
            let json = row[0].map { ByteBuffer(string: $0) } ?? ByteBuffer(string: "[]")
            let seconds = row[1].flatMap { Int($0) }
            return [batch[0]: FilledValue(json: json, secondsUntilPeriodEnd: seconds, snapshot: snapshot)]
        }
        let ids = "{" + batch.map { String($0.id) }.joined(separator: ",") + "}"
        let result = try connection.execute(prepared: name, sql: sql, [ids])
        var values: [CacheKey: FilledValue] = [:]
        for row in result.rows where row.count == 3 {
            guard let idText = row[0], let id = Int64(idText), let snapshot = row[2] else {
                throw PostgresError.unexpectedValue(column: "id", value: row[0])
            }
            values[CacheKey(family: family, id: id)] = FilledValue(
                json: row[1].map { ByteBuffer(string: $0) }, secondsUntilPeriodEnd: nil, snapshot: snapshot)
        }
        return values
    }

    /// Records the results for reuse, then stores and hands out each key on its requester's
    /// loop: one task per loop for the whole batch (called on a pool thread).
    private func finish(_ batch: [Item], values: [CacheKey: FilledValue], epoch: Int, store: @escaping Store) {
        guard let family = batch.first?.key.family else { return }
        let counters = stats[family]
        let finishedAt = NIODeadline.now()
        var current: [(CacheKey, Int)] = []
        state.withLock { state in
            for item in batch {
                guard let value = values[item.key], var entry = state.entries[item.key], entry.token == item.token else {
                    continue  // invalidated while in flight: not reused
                }
                entry.result = value
                entry.finishedAt = finishedAt
                state.entries[item.key] = entry
                current.append((item.key, item.token))
            }
        }
        var byLoop: [ObjectIdentifier: (loop: any EventLoop, items: [Item])] = [:]
        for item in batch {
            let loop = item.promise.futureResult.eventLoop
            byLoop[ObjectIdentifier(loop), default: (loop, [])].items.append(item)
        }
        for (loop, items) in byLoop.values {
            loop.execute { [self] in
                for item in items {
                    guard let value = values[item.key] else {
                        item.promise.fail(PostgresError.unexpectedValue(column: "id", value: String(item.key.id)))
                        continue
                    }
                    if value.isAbsent {
                        counters.absentFills.add(1, ordering: .relaxed)
                    } else {
                        counters.fills.add(1, ordering: .relaxed)
                    }
                    item.promise.succeed(value)
                }
                // Stored in one call for the batch, right after the replies (whose writes then leave
                // first in this tick; measured 13,000 fills/s with the store first, 17,500 after).
                // A command that a requester's callback sends at once goes ahead of the store;
                // callers that read the key back defer that to a later task (`OperatorService`).
                // Redis refuses a value if a write it predates has been invalidated meanwhile;
                // across a Redis restart that record is lost, so such fills do not store at all.
                if storeEpoch.load(ordering: .sequentiallyConsistent) == epoch {
                    store(items.compactMap { item in values[item.key].map { (item.key, $0) } }, loop)
                }
            }
        }
        // Forget the finished entries once the grace has passed.
        guard let loop = batch.first?.promise.futureResult.eventLoop, !current.isEmpty else { return }
        let finished = current
        loop.scheduleTask(in: grace) { [self] in
            state.withLock { state in
                for (key, token) in finished where state.entries[key]?.token == token {
                    state.entries[key] = nil
                }
            }
        }
    }

    private func fail(_ batch: [Item], error: any Error) {
        state.withLock { state in
            for item in batch where state.entries[item.key]?.token == item.token {
                state.entries[item.key] = nil
            }
        }
        for item in batch { item.promise.fail(error) }
    }

    /// Takes the next queued batch of `family` for a query slot that just finished, or frees the slot.
    private func takeBatchOrFreeSlot(_ family: KeyFamily) -> [Item]? {
        state.withLock { state -> [Item]? in
            if let batch = Self.takeBatch(family, from: &state, max: settings.maxBatchSize) {
                state.batchStarted[family] = .now()
                return batch
            }
            state.running[family, default: 1] -= 1
            return nil
        }
    }

    /// Starts the next queued batch of `family` as a new pool job, or frees its slot.
    private func next(_ family: KeyFamily, on eventLoop: any EventLoop, store: @escaping Store) {
        if let batch = takeBatchOrFreeSlot(family) { run(batch, on: eventLoop, store: store) }
    }
}
