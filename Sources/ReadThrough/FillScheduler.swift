import CacheModel
import NIOCore

/// The decisions of filling misses from PostgreSQL, without any I/O or clock.
///
/// `FillCoordinator` holds one of these under its mutex, turns every event (misses requested, a
/// batch's query finished or failed, keys invalidated, Redis restarted, a grace ended) into one
/// call here with the current time, and runs what it gets back: it makes the queries, completes
/// the waiters and stores the values. Keeping the decisions in a plain struct lets the tests
/// drive single flight, batching, shedding, grace and invalidation step by step. `Waiter` is
/// whatever the owner completes when a key's value arrives: an `EventLoopPromise` in production,
/// an `Int` in tests.
///
/// - Single flight: a key has at most one fill; misses of it join that fill, and misses just
///   after it finished (before Redis has the value) reuse its result for `grace`.
/// - Batching: while a query of a family runs, new misses of the family queue and leave together
///   as the next batch when a query slot of the family frees. A second query of the family starts
///   beside the running one (up to `concurrencyPerFamily`) only when `parallelBatchThreshold`
///   misses wait or the latest batch has run for `parallelAfter`.
/// - Shedding: beyond `maxWaiting` queued misses a miss that no starting query takes is refused.
/// - Invalidation detaches the keys' fills: later misses start new fills and the detached results
///   are not reused. After `invalidateAll` (Redis restarted and lost its record of recent
///   writers), batches that began before it do not store their values. A family flush for a
///   write too big to invalidate key by key records its transactions for `writerMemory`, as
///   the invalidation script does per key in Redis: a batch of the family whose snapshot does
///   not see them neither stores nor answers later misses.
package struct FillScheduler<Waiter> {
    /// What the scheduler needs to know of the configuration.
    package struct Limits {
        /// Keys per query of a family keyed by id.
        package var maxBatchSize: Int
        /// Queries of one family that may run at once.
        package var concurrencyPerFamily: Int
        /// Misses that may wait for a query slot (`postgres.max_queued`).
        package var maxWaiting: Int
        /// How long a finished fill keeps answering misses of its key.
        package var grace: TimeAmount = .seconds(1)
        /// Misses waiting that justify a parallel query of a family that has one running.
        package var parallelBatchThreshold = 64
        /// How long a family's latest batch may run before waiting misses get a parallel query.
        package var parallelAfter: TimeAmount = .milliseconds(5)
        /// How long a family flush's writers are remembered (as long as Redis keeps a key's).
        package var writerMemory: TimeAmount = .milliseconds(Int64(RedisScripts.writerMemoryMilliseconds))

        package init(maxBatchSize: Int, concurrencyPerFamily: Int, maxWaiting: Int) {
            self.maxBatchSize = maxBatchSize
            self.concurrencyPerFamily = max(1, concurrencyPerFamily)
            self.maxWaiting = maxWaiting
        }
    }

    /// A key waiting in, or travelling with, a batch.
    package struct Item {
        package let key: CacheKey
        /// Tells this fill of the key from later ones (after an invalidation or a grace).
        package let token: Int
        package let waiter: Waiter
    }

    /// Keys of one family that leave in one query.
    package struct Batch {
        /// Tells the batch from others while it runs (a batch ends once).
        let id: Int
        package let family: KeyFamily
        package let items: [Item]
        /// The store epoch when the batch began (see `invalidateAll`).
        let epoch: Int
    }

    /// What to do with one missed key.
    package enum MissAction {
        /// A fill of the key is under way: wait for it.
        case join(Waiter)
        /// A fill of the key finished within the grace: answer with its result.
        case reuse(FilledValue)
        /// A new fill: the waiter (made by the caller) is queued for a batch.
        case enqueued(Waiter)
        /// Too many misses wait already: refuse at once.
        case shed(queued: Int)
    }

    /// A fill whose result answers misses until its grace ends (`graceEnded`).
    package struct FinishedFill {
        package let key: CacheKey
        package let token: Int
    }

    /// What to do after a batch's query returned its rows.
    package struct Completion {
        /// Whether the values may be stored in Redis: false when Redis restarted since the batch
        /// began, or its snapshot does not see a transaction that wrote its whole family. (Whether
        /// a write invalidated a key meanwhile, Redis's store script decides.)
        package let store: Bool
        /// The fills whose results now answer misses; end their grace after `grace`.
        package let reusable: [FinishedFill]
        /// The family's next batch, for the query slot this batch held; nil frees the slot.
        package let next: Batch?
    }

    /// What to do after a batch's query failed, or its pool job ended before running it.
    package enum FailureAction {
        /// The batch had ended already (its failure was handled): nothing to do.
        case none
        /// Fail the batch's waiters, then run `next` (if one waits) in the query slot it held.
        case failWaiters(next: Batch?)
    }

    private struct Entry {
        let token: Int
        let waiter: Waiter
        var result: FilledValue?
        var finishedAt: NIODeadline?
    }

    package let limits: Limits
    private var entries: [CacheKey: Entry] = [:]
    private var queued: [KeyFamily: [Item]] = [:]
    private var running: [KeyFamily: Int] = [:]
    /// The batches started and not yet ended.
    private var runningBatches: Set<Int> = []
    private var nextBatchID = 0
    /// When each family's latest batch began.
    private var batchStarted: [KeyFamily: NIODeadline] = [:]
    /// Families that got new misses since the last `startBatches`.
    private var touched: Set<KeyFamily> = []
    /// Keys in `queued`, all families together.
    private var waiting = 0
    private var nextToken = 0
    /// Bumped by `invalidateAll`.
    private var epoch = 0
    /// Transactions that wrote whole families (family flushes), each until it is forgotten.
    private var familyWriters: [KeyFamily: [(transaction: UInt64, until: NIODeadline)]] = [:]

    package init(limits: Limits) {
        self.limits = limits
    }

    // MARK: Misses

    /// Decides how a missed key gets its value; `makeWaiter` is called only for a new fill.
    /// Call `startBatches` after the misses of one request.
    package mutating func miss(_ key: CacheKey, now: NIODeadline, makeWaiter: () -> Waiter) -> MissAction {
        if let entry = entries[key] {
            guard let result = entry.result, let finishedAt = entry.finishedAt else {
                return .join(entry.waiter)
            }
            if now - finishedAt < limits.grace {
                return .reuse(result)
            }
        }
        // A query about to start takes the key; otherwise it waits, if there is room.
        if !startsQuery(key.family, now: now, adding: 1) && waiting >= limits.maxWaiting {
            return .shed(queued: waiting)
        }
        let waiter = makeWaiter()
        waiting += 1
        nextToken += 1
        entries[key] = Entry(token: nextToken, waiter: waiter)
        queued[key.family, default: []].append(Item(key: key, token: nextToken, waiter: waiter))
        touched.insert(key.family)
        return .enqueued(waiter)
    }

    /// The batches that start now for the families that got misses since the last call.
    package mutating func startBatches(now: NIODeadline) -> [Batch] {
        var batches: [Batch] = []
        for family in touched {
            while startsQuery(family, now: now, adding: 0), let batch = takeBatch(family, now: now) {
                running[family, default: 0] += 1
                batches.append(batch)
            }
        }
        touched.removeAll(keepingCapacity: true)
        return batches
    }

    // MARK: Batches ending

    /// A batch's query returned `values`: records them for reuse and takes the family's next batch.
    package mutating func batchSucceeded(_ batch: Batch, values: [CacheKey: FilledValue], now: NIODeadline) -> Completion {
        runningBatches.remove(batch.id)
        var reusable: [FinishedFill] = []
        // One query, one snapshot: any value's tells what the whole batch saw.
        let seesWriters = values.first.map { seesFamilyWriters(batch.family, snapshot: $0.value.snapshot, now: now) } ?? true
        for item in batch.items {
            guard let value = values[item.key], var entry = entries[item.key], entry.token == item.token else {
                continue  // invalidated while in flight: not reused
            }
            guard seesWriters else {
                entries[item.key] = nil  // read before a family's writer: the next miss reads again
                continue
            }
            entry.result = value
            entry.finishedAt = now
            entries[item.key] = entry
            reusable.append(FinishedFill(key: item.key, token: item.token))
        }
        return Completion(store: batch.epoch == epoch && seesWriters, reusable: reusable,
                          next: nextBatchOrFreeSlot(batch.family, now: now))
    }

    /// A batch's query failed, or the pool job that was to run it ended: unless the batch had
    /// ended already, its keys' next misses start new fills and its slot goes to the next batch.
    package mutating func batchFailed(_ batch: Batch, now: NIODeadline) -> FailureAction {
        guard runningBatches.remove(batch.id) != nil else { return .none }
        for item in batch.items where entries[item.key]?.token == item.token {
            entries[item.key] = nil
        }
        return .failWaiters(next: nextBatchOrFreeSlot(batch.family, now: now))
    }

    /// The grace of these finished fills is over: their keys' next misses start new fills.
    package mutating func graceEnded(_ finished: [FinishedFill]) {
        for fill in finished where entries[fill.key]?.token == fill.token {
            entries[fill.key] = nil
        }
    }

    // MARK: Invalidation

    /// Detaches the fills of these keys (they were written).
    package mutating func invalidate(_ keys: [CacheKey]) {
        for key in keys { entries[key] = nil }
    }

    /// Detaches every fill of `family` (a family flush).
    package mutating func invalidate(family: KeyFamily) {
        entries = entries.filter { $0.key.family != family }
    }

    /// Detaches every fill of `family`, which `transactions` may have written anywhere: until
    /// they are forgotten, a batch of the family whose snapshot does not see them all does not
    /// store, whenever it began.
    package mutating func invalidate(family: KeyFamily, writtenBy transactions: [UInt64], now: NIODeadline) {
        invalidate(family: family)
        let until = now + limits.writerMemory
        familyWriters[family] = familyWriters[family, default: []].filter { $0.until > now } + transactions.map { ($0, until) }
    }

    /// Detaches every fill and keeps the batches under way from storing (Redis restarted).
    package mutating func invalidateAll() {
        epoch += 1
        entries.removeAll()
    }

    // MARK: Observation (tests)

    /// Misses queued for a query slot, all families together.
    package var waitingCount: Int { waiting }

    /// Queries of `family` under way.
    package func runningCount(_ family: KeyFamily) -> Int { running[family, default: 0] }

    // MARK: Private

    /// Whether a read in `snapshot` saw every transaction remembered as a writer of `family`
    /// (an unreadable snapshot saw none).
    private mutating func seesFamilyWriters(_ family: KeyFamily, snapshot text: String, now: NIODeadline) -> Bool {
        guard let writers = familyWriters[family] else { return true }
        let current = writers.filter { $0.until > now }
        familyWriters[family] = current.isEmpty ? nil : current
        guard !current.isEmpty else { return true }
        guard let snapshot = PostgresSnapshot(text) else { return false }
        return current.allSatisfy { snapshot.sees($0.transaction) }
    }

    /// Whether a query of `family` starts now for what waits (plus `adding` keys about to queue):
    /// always when none runs; in parallel only for a long queue or a slow running batch.
    private func startsQuery(_ family: KeyFamily, now: NIODeadline, adding: Int) -> Bool {
        let running = running[family, default: 0]
        if running == 0 { return true }
        guard running < limits.concurrencyPerFamily else { return false }
        if (queued[family]?.count ?? 0) + adding >= limits.parallelBatchThreshold { return true }
        guard let started = batchStarted[family] else { return true }
        return now - started >= limits.parallelAfter
    }

    private mutating func takeBatch(_ family: KeyFamily, now: NIODeadline) -> Batch? {
        guard var queue = queued[family], !queue.isEmpty else { return nil }
        let items = Array(queue.prefix(family.hasID ? limits.maxBatchSize : 1))
        queue.removeFirst(items.count)
        waiting -= items.count
        queued[family] = queue.isEmpty ? nil : queue
        batchStarted[family] = now
        nextBatchID += 1
        runningBatches.insert(nextBatchID)
        return Batch(id: nextBatchID, family: family, items: items, epoch: epoch)
    }

    /// Takes the next queued batch of `family` for a query slot that just finished, or frees the slot.
    private mutating func nextBatchOrFreeSlot(_ family: KeyFamily, now: NIODeadline) -> Batch? {
        if let batch = takeBatch(family, now: now) { return batch }
        running[family, default: 1] -= 1
        return nil
    }
}

extension FillScheduler.Item: Sendable where Waiter: Sendable {}
extension FillScheduler.Batch: Sendable where Waiter: Sendable {}
extension FillScheduler.Completion: Sendable where Waiter: Sendable {}
extension FillScheduler.FailureAction: Sendable where Waiter: Sendable {}
extension FillScheduler.FinishedFill: Sendable {}
