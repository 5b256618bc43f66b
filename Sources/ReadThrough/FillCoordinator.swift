import CacheModel
import CoreMetrics
import Logging
import NIOCore
import Postgres
import Synchronization

/// Fills misses from PostgreSQL: runs what its `FillScheduler` decides (single flight, batching,
/// shedding, grace, invalidation; see there) and does the I/O: the pool queries, the waiters'
/// promises and the stores.
///
/// Why batching waits for the running query instead of starting more: on a small machine,
/// parallel small batches cost more CPU per row than they save in waiting
/// (docs/decisions/0003-fill-batching-one-query-per-family.md).
package final class FillCoordinator: Sendable {
    /// Moved by every invalidation, for `WATCH`.
    package let epochs = InvalidationEpochs()

    /// Called with the filled keys of a batch that share a loop (that of each key's first
    /// requester), on that loop, to store them.
    package typealias Store = @Sendable ([(CacheKey, FilledValue)], any EventLoop) -> Void

    private typealias Scheduler = FillScheduler<EventLoopPromise<FilledValue>>
    private typealias Batch = Scheduler.Batch

    private let pool: PostgresPool
    private let settings: CacheSettings
    private let stats: FamilyStats
    private let store: Store
    private let hooks: FillHooks
    private let scheduler: Mutex<Scheduler>
    private let grace: TimeAmount
    /// Fill query durations per family (Prometheus through swift-metrics); empty without metrics.
    private let fillDurations: [KeyFamily: CoreMetrics.Timer]
    private let failureLog: LogOnce

    /// Consecutive batches one pool job may run before it queues behind other work.
    private static let batchesPerTurn = 16

    package init(
        pool: PostgresPool, settings: CacheSettings, stats: FamilyStats, store: @escaping Store, hooks: FillHooks,
        metricsFactory: (any MetricsFactory)?, logger: Logger
    ) {
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
        self.store = store
        self.hooks = hooks
        let limits = Scheduler.Limits(
            maxBatchSize: settings.maxBatchSize, concurrencyPerFamily: pool.configuration.size,
            maxWaiting: pool.configuration.maxQueued)
        self.grace = limits.grace
        self.scheduler = Mutex(Scheduler(limits: limits))
    }

    /// The value of `key` from PostgreSQL (shared with concurrent fills of the same key).
    package func fill(_ key: CacheKey, on eventLoop: any EventLoop) -> EventLoopFuture<FilledValue> {
        fill([key], on: eventLoop)[0]
    }

    /// Fills several keys; misses of one family submitted together leave in one query.
    package func fill(_ keys: [CacheKey], on eventLoop: any EventLoop) -> [EventLoopFuture<FilledValue>] {
        let now = NIODeadline.now()
        let (futures, batches) = scheduler.withLock { scheduler -> ([EventLoopFuture<FilledValue>], [Batch]) in
            var futures: [EventLoopFuture<FilledValue>] = []
            futures.reserveCapacity(keys.count)
            for key in keys {
                switch scheduler.miss(key, now: now, makeWaiter: { eventLoop.makePromise(of: FilledValue.self) }) {
                case .join(let promise), .enqueued(let promise):
                    futures.append(promise.futureResult)
                case .reuse(let value):
                    futures.append(eventLoop.makeSucceededFuture(value))
                case .shed(let queued):
                    stats[key.family].shed.add(1, ordering: .relaxed)
                    futures.append(eventLoop.makeFailedFuture(PostgresPoolError.overloaded(queued: queued)))
                }
            }
            return (futures, scheduler.startBatches(now: now))
        }
        for batch in batches { run(batch, on: eventLoop) }
        return futures.map { $0.hop(to: eventLoop) }
    }

    /// Detaches the fills of these keys: later requests start new fills, and finished
    /// results are no longer reused. Called when the keys are invalidated.
    package func invalidate(_ keys: [CacheKey]) {
        epochs.bump(keys)
        scheduler.withLock { $0.invalidate(keys) }
    }

    /// Detaches every fill of `family` (a family flush).
    package func invalidate(family: KeyFamily) {
        epochs.bump(family: family)
        scheduler.withLock { $0.invalidate(family: family) }
    }

    /// Detaches every fill of these families, which `transactions` wrote beyond listing (a
    /// family flush): a batch whose snapshot does not see them does not store.
    package func invalidate(families: Set<KeyFamily>, writtenBy transactions: [UInt64]) {
        let now = NIODeadline.now()
        for family in families { epochs.bump(family: family) }
        scheduler.withLock { scheduler in
            for family in families { scheduler.invalidate(family: family, writtenBy: transactions, now: now) }
        }
    }

    /// Detaches every fill and keeps the ones in flight from storing their values
    /// (called when Redis restarted and lost its record of recent writers).
    package func invalidateAll() {
        epochs.bumpAll()
        scheduler.withLock { $0.invalidateAll() }
    }

    /// Runs `first` and then, on the same pool thread and connection, the batches that queued
    /// meanwhile (at most `batchesPerTurn`, so one family cannot hold a thread that others wait
    /// for). A thread that goes straight on to the next batch saves two thread wake-ups per
    /// query: the event loop's for the result and the pool thread's for the next query.
    private func run(_ first: Batch, on eventLoop: any EventLoop) {
        pool.run(on: eventLoop) { [self] connection in
            var batch = first
            for turn in 1...Self.batchesPerTurn {
                let values: [CacheKey: FilledValue]
                do {
                    values = try query(batch, connection: connection)
                } catch {
                    fail(batch, error: error, on: eventLoop)
                    throw error  // the pool counts the failure and drops a broken connection
                }
                guard let next = finish(batch, values: values) else { return }
                if turn == Self.batchesPerTurn {
                    run(next, on: eventLoop)
                    return
                }
                batch = next
            }
        }.whenFailure { [self] error in
            // Fails `first` if the job ended before running it (no connection, or overloaded);
            // a batch whose query failed has ended already, so the scheduler answers `.none`.
            fail(first, error: error, on: eventLoop)
        }
    }

    /// Queries one batch, counting and timing the query.
    private func query(_ batch: Batch, connection: PooledConnection) throws -> [CacheKey: FilledValue] {
        let family = batch.family
        let counters = stats[family]
        let started = NIODeadline.now()
        let keys = batch.items.map(\.key)
        let result = Result { () throws -> [CacheKey: FilledValue] in
            let values = try FillQuery.run(keys, family: family, settings: settings, connection: connection)
            hooks.afterQuery?(keys)
            return values
        }
        let nanoseconds = (NIODeadline.now() - started).nanoseconds
        fillDurations[family]?.recordNanoseconds(nanoseconds)
        counters.queries.add(1, ordering: .relaxed)
        counters.fillMicroseconds.add(Int(nanoseconds / 1000), ordering: .relaxed)
        if case .success = result { failureLog.success() }
        return try result.get()
    }

    /// Records the results for reuse, then hands out and stores each key on its requester's loop:
    /// one task per loop for the whole batch (called on a pool thread). Returns the family's next
    /// batch for this query slot, if one waits.
    private func finish(_ batch: Batch, values: [CacheKey: FilledValue]) -> Batch? {
        let counters = stats[batch.family]
        let now = NIODeadline.now()
        let completion = scheduler.withLock { $0.batchSucceeded(batch, values: values, now: now) }
        var byLoop: [ObjectIdentifier: (loop: any EventLoop, items: [Scheduler.Item])] = [:]
        for item in batch.items {
            let loop = item.waiter.futureResult.eventLoop
            byLoop[ObjectIdentifier(loop), default: (loop, [])].items.append(item)
        }
        let stores = completion.store
        for (loop, items) in byLoop.values {
            loop.execute { [store] in
                for item in items {
                    guard let value = values[item.key] else {
                        item.waiter.fail(PostgresError.unexpectedValue(column: "id", value: String(item.key.id)))
                        continue
                    }
                    if value.isAbsent {
                        counters.absentFills.add(1, ordering: .relaxed)
                    } else {
                        counters.fills.add(1, ordering: .relaxed)
                    }
                    item.waiter.succeed(value)
                }
                // Stored in one call for the batch, right after the replies (whose writes then leave
                // first in this tick; measured 13,000 fills/s with the store first, 17,500 after).
                // A command that a requester's callback sends at once goes ahead of the store;
                // callers that read the key back defer that to a later task (`OperatorService`).
                // Redis refuses a value if a write it predates has been invalidated meanwhile;
                // across a Redis restart that record is lost, so such fills do not store at all.
                if stores {
                    store(items.compactMap { item in values[item.key].map { (item.key, $0) } }, loop)
                }
            }
        }
        // Forget the finished fills once the grace has passed.
        if let loop = batch.items.first?.waiter.futureResult.eventLoop, !completion.reusable.isEmpty {
            let finished = completion.reusable
            loop.scheduleTask(in: grace) { [self] in
                scheduler.withLock { $0.graceEnded(finished) }
            }
        }
        return completion.next
    }

    /// Counts and logs a failed batch, fails its requests and starts the family's next batch
    /// (unless the batch had ended already).
    private func fail(_ batch: Batch, error: any Error, on eventLoop: any EventLoop) {
        let now = NIODeadline.now()
        guard case .failWaiters(let next) = scheduler.withLock({ $0.batchFailed(batch, now: now) }) else { return }
        stats[batch.family].fillErrors.add(1, ordering: .relaxed)
        failureLog.failure(error, metadata: ["family": "\(batch.family.name)"])
        for item in batch.items { item.waiter.fail(error) }
        if let next { run(next, on: eventLoop) }
    }
}
