import CacheModel
import NIOCore
import ReadThrough
import Testing

/// The fill decisions, driven event by event with tokens for waiters and the time as an input:
/// no sockets, servers, threads or sleeps. The end-to-end tests of the same races
/// (`ReadThroughTests`, `InvalidationRaceTests`, `RedisRestartRaceTests`) hold real fills.
@Suite struct FillSchedulerTests {
    @Test func aThousandMissesOfOneKeyMakeOneQueryAndTheResultAnswersMissesForTheGrace() {
        var fills = Fills()
        let key = CacheKey(family: .listing, id: 10)
        let outcomes = fills.request(Array(repeating: key, count: 1_000))
        #expect(outcomes.first == .enqueued(1))
        #expect(outcomes.dropFirst().allSatisfy { $0 == .join(1) })
        let batches = fills.startBatches()
        #expect(batches.map(\.keys) == [[key]])
        // Misses while the query runs join it.
        #expect(fills.request([key], at: .milliseconds(3)) == [.join(1)])
        #expect(fills.startBatches(at: .milliseconds(3)).isEmpty)

        let completion = fills.succeed(batches[0], at: .milliseconds(4))
        #expect(completion.store)
        #expect(completion.reusable.map(\.key) == [key])
        #expect(completion.next == nil)
        #expect(fills.scheduler.runningCount(.listing) == 0)
        #expect(fills.request([key], at: .milliseconds(500)) == [.reuse(snapshot: "listing:10")])
    }

    @Test func missesOfAFamilyWhileItsQueryRunsLeaveTogetherInTheNextBatch() throws {
        var fills = Fills()
        #expect(fills.request([user(1)]) == [.enqueued(1)])
        let first = fills.startBatches()
        #expect(first.map(\.keys) == [[user(1)]])
        for id in 2...11 {
            #expect(fills.request([user(Int64(id))], at: .milliseconds(1)) == [.enqueued(id)])
            #expect(fills.startBatches(at: .milliseconds(1)).isEmpty, "user:\(id) started a parallel query")
        }
        #expect(fills.scheduler.waitingCount == 10)
        // Another family does not wait for this one.
        #expect(fills.request([CacheKey(family: .listing, id: 1)], at: .milliseconds(1)) == [.enqueued(12)])
        #expect(fills.startBatches(at: .milliseconds(1)).map(\.family) == [.listing])

        let completion = fills.succeed(first[0], at: .milliseconds(2))
        let next = try #require(completion.next)
        #expect(next.keys == (2...11).map { user(Int64($0)) })
        #expect(fills.scheduler.runningCount(.user) == 1, "the next batch takes the finished batch's slot")
        #expect(fills.scheduler.waitingCount == 0)
        #expect(fills.succeed(next, at: .milliseconds(3)).next == nil)
        #expect(fills.scheduler.runningCount(.user) == 0)
    }

    @Test func aLongQueueGetsAParallelQueryUpToThePoolSize() {
        var fills = Fills(concurrencyPerFamily: 2)
        _ = fills.request([user(1)])
        #expect(fills.startBatches().count == 1)
        // 63 waiting misses are not enough...
        _ = fills.request((2...64).map { user(Int64($0)) }, at: .milliseconds(1))
        #expect(fills.startBatches(at: .milliseconds(1)).isEmpty)
        // ...the 64th starts a second query of the family with all of them.
        _ = fills.request([user(65)], at: .milliseconds(1))
        let parallel = fills.startBatches(at: .milliseconds(1))
        #expect(parallel.map(\.keys.count) == [64])
        #expect(fills.scheduler.runningCount(.user) == 2)
        // With the pool size reached, even a long queue waits.
        _ = fills.request((100...199).map { user(Int64($0)) }, at: .milliseconds(2))
        #expect(fills.startBatches(at: .seconds(1)).isEmpty)
        #expect(fills.scheduler.waitingCount == 100)
    }

    @Test func waitingMissesGetAParallelQueryWhenTheRunningOneIsSlow() {
        var fills = Fills(concurrencyPerFamily: 2)
        _ = fills.request([user(1)])
        #expect(fills.startBatches().count == 1)
        _ = fills.request([user(2)], at: .microseconds(4_999))
        #expect(fills.startBatches(at: .microseconds(4_999)).isEmpty)
        _ = fills.request([user(3)], at: .milliseconds(5))
        #expect(fills.startBatches(at: .milliseconds(5)).map(\.keys) == [[user(2), user(3)]])
        var single = Fills(concurrencyPerFamily: 1)
        _ = single.request([user(1)])
        _ = single.startBatches()
        _ = single.request([user(2)], at: .seconds(1))
        #expect(single.startBatches(at: .seconds(1)).isEmpty, "a pool of one runs one query of a family")
    }

    @Test func missesBeyondMaxQueuedAreShedUnlessAStartingQueryTakesThem() {
        var fills = Fills(maxWaiting: 3)
        _ = fills.request([user(1)])
        let first = fills.startBatches()
        #expect(fills.request([user(2), user(3), user(4)], at: .milliseconds(1)) == [.enqueued(2), .enqueued(3), .enqueued(4)])
        #expect(fills.request([user(5), user(2)], at: .milliseconds(1)) == [.shed(queued: 3), .join(2)])
        // A family with no query running starts one at once, so its miss is not shed.
        #expect(fills.request([CacheKey(family: .listing, id: 1)], at: .milliseconds(1)) == [.enqueued(5)])
        #expect(fills.startBatches(at: .milliseconds(1)).map(\.family) == [.listing])
        // Once the queue left in a batch there is room again.
        #expect(fills.succeed(first[0], at: .milliseconds(2)).next?.keys.count == 3)
        #expect(fills.request([user(5)], at: .milliseconds(2)) == [.enqueued(6)])
    }

    /// The stale-set race (end to end: `InvalidationRaceTests`): a key written while its query ran.
    @Test func aKeyInvalidatedDuringItsQueryIsNotReusedAndItsNextMissStartsANewFill() throws {
        var fills = Fills()
        let key = CacheKey(family: .listing, id: 10)
        _ = fills.request([key])
        let first = fills.startBatches()
        fills.scheduler.invalidate([key])
        // A miss after the write does not join the fill that may predate it.
        #expect(fills.request([key], at: .milliseconds(1)) == [.enqueued(2)])
        #expect(fills.startBatches(at: .milliseconds(1)).isEmpty)

        let completion = fills.succeed(first[0], at: .milliseconds(2))
        #expect(completion.reusable.isEmpty, "the detached result answers later misses")
        // Its store still goes to Redis, whose store script refuses a value older than the write.
        #expect(completion.store)
        #expect(fills.request([key], at: .milliseconds(2)) == [.join(2)])
        let next = try #require(completion.next)
        #expect(next.keys == [key])
        #expect(fills.succeed(next, at: .milliseconds(3)).reusable.map(\.key) == [key])
        #expect(fills.request([key], at: .milliseconds(4)) == [.reuse(snapshot: "listing:10")])
        // A finished result is detached as well.
        fills.scheduler.invalidate([key])
        #expect(fills.request([key], at: .milliseconds(5)) == [.enqueued(3)])
    }

    @Test func aFamilyFlushDetachesOnlyThatFamily() {
        var fills = Fills()
        _ = fills.request([user(1), CacheKey(family: .listing, id: 1)])
        _ = fills.startBatches()
        fills.scheduler.invalidate(family: .user)
        #expect(fills.request([user(1), CacheKey(family: .listing, id: 1)], at: .milliseconds(1)) == [.enqueued(3), .join(2)])
    }

    /// The restart race (end to end: `RedisRestartRaceTests`): Redis lost its record of writers.
    @Test func invalidateAllDetachesEveryFillAndKeepsBatchesUnderWayFromStoring() throws {
        var fills = Fills()
        let key = CacheKey(family: .listing, id: 10)
        _ = fills.request([key, user(1)])
        let before = fills.startBatches()
        #expect(before.count == 2)
        fills.scheduler.invalidateAll()
        #expect(fills.request([key], at: .milliseconds(1)) == [.enqueued(3)])

        for batch in before {
            let completion = fills.succeed(batch, at: .milliseconds(2))
            #expect(!completion.store, "\(batch.family) began before the restart and stored")
            #expect(completion.reusable.isEmpty)
            if batch.family == .listing {
                let after = try #require(completion.next)
                #expect(after.keys == [key])
                #expect(fills.succeed(after, at: .milliseconds(3)).store)
            }
        }
        #expect(fills.request([user(1)], at: .milliseconds(4)) == [.enqueued(4)])
    }

    /// A family flush instead of listing keys (a write too big to unlink key by key): a batch of
    /// the family whose snapshot does not see the writer neither stores nor answers later misses,
    /// whenever it began, until the writer is forgotten (as Redis forgets a key's writers).
    @Test func aFamilyFlushsWriterKeepsBatchesThatDidNotSeeItFromStoring() throws {
        var fills = Fills()
        let key = CacheKey(family: .listing, id: 10)
        _ = fills.request([key, user(1)])
        let before = fills.startBatches()
        fills.scheduler.invalidate(family: .listing, writtenBy: [100], now: fills.time(.milliseconds(1)))
        #expect(fills.request([key], at: .milliseconds(1)) == [.enqueued(3)], "the family's fills are detached")

        for batch in before {
            let completion = fills.succeed(batch, at: .milliseconds(2), snapshot: "90:100:")
            if batch.family == .listing {
                #expect(!completion.store && completion.reusable.isEmpty, "read before transaction 100 committed")
                let after = try #require(completion.next)
                // Began after the flush, yet read in a snapshot where 100 was still running.
                let running = fills.succeed(after, at: .milliseconds(3), snapshot: "95:102:100")
                #expect(!running.store && running.reusable.isEmpty)
            } else {
                #expect(completion.store, "another family is not concerned")
            }
        }
        #expect(fills.request([key], at: .milliseconds(4)) == [.enqueued(4)], "a refused fill answers no later miss")
        let seen = fills.startBatches(at: .milliseconds(4))
        #expect(fills.succeed(seen[0], at: .milliseconds(5), snapshot: "101:105:103").store, "100 finished before this read")

        _ = fills.request([CacheKey(family: .listing, id: 11)], at: .seconds(2))
        let unreadable = fills.startBatches(at: .seconds(2))
        #expect(!fills.succeed(unreadable[0], at: .seconds(2), snapshot: "not a snapshot").store)

        _ = fills.request([CacheKey(family: .listing, id: 12)], at: .seconds(61))
        let later = fills.startBatches(at: .seconds(61))
        #expect(fills.succeed(later[0], at: .seconds(61), snapshot: "90:100:").store, "the writer is forgotten after 60 s")
    }

    @Test func snapshotsSeeWhatFinishedBeforeThem() {
        let snapshot = PostgresSnapshot("100:110:103,107")
        #expect(snapshot?.sees(99) == true)
        #expect(snapshot?.sees(100) == true && snapshot?.sees(109) == true)
        #expect(snapshot?.sees(103) == false && snapshot?.sees(107) == false, "in progress")
        #expect(snapshot?.sees(110) == false && snapshot?.sees(200) == false, "at or past xmax")
        #expect(PostgresSnapshot("5:5:")?.sees(4) == true)
        for bad in ["", "1:2", "a:2:", "3:2:", "1:2:x", "1:2:3:4"] {
            #expect(PostgresSnapshot(bad) == nil, "parsed '\(bad)'")
        }
    }

    @Test func aFinishedFillAnswersForItsGraceOnly() {
        var fills = Fills()
        let key = CacheKey(family: .user, id: 7)
        _ = fills.request([key])
        let finishedAt = TimeAmount.milliseconds(10)
        let completion = fills.succeed(fills.startBatches()[0], at: finishedAt)
        #expect(fills.request([key], at: finishedAt + .milliseconds(999)) == [.reuse(snapshot: "user:7")])
        // The grace is over even before its end is reported: a new fill.
        #expect(fills.request([key], at: finishedAt + .seconds(1)) == [.enqueued(2)])
        #expect(fills.startBatches(at: finishedAt + .seconds(1)).map(\.keys) == [[key]])
        // The old fill's grace ending does not detach the new one.
        fills.scheduler.graceEnded(completion.reusable)
        #expect(fills.request([key], at: finishedAt + .seconds(1)) == [.join(2)])

        var ended = Fills()
        _ = ended.request([key])
        let reusable = ended.succeed(ended.startBatches()[0], at: finishedAt).reusable
        ended.scheduler.graceEnded(reusable)
        #expect(ended.request([key], at: finishedAt + .milliseconds(1)) == [.enqueued(2)])
    }

    @Test func aFailedQueryDetachesItsKeysAndHandsItsSlotToTheNextBatch() throws {
        var fills = Fills()
        _ = fills.request([user(1)])
        let first = fills.startBatches()
        _ = fills.request([user(2)], at: .milliseconds(1))
        let next = try #require(fills.fail(first[0], at: .milliseconds(2)).next)
        #expect(next.keys == [user(2)])
        #expect(fills.scheduler.runningCount(.user) == 1)
        #expect(fills.request([user(1)], at: .milliseconds(2)) == [.enqueued(3)])
        let last = try #require(fills.fail(next, at: .milliseconds(3)).next)
        #expect(last.keys == [user(1)])
        #expect(fills.fail(last, at: .milliseconds(4)).outcome == .failWaiters(nextKeys: nil))
        #expect(fills.scheduler.runningCount(.user) == 0)
        #expect(fills.request([user(2)], at: .milliseconds(5)) == [.enqueued(4)])
    }

    /// A pool job reports the batch it began with once more when it ends with an error: after
    /// that batch succeeded, or failed and was handled, the report changes nothing.
    @Test func aBatchEndsOnce() throws {
        var fills = Fills()
        _ = fills.request([user(1)])
        let first = fills.startBatches()
        _ = fills.request([user(2)], at: .milliseconds(1))
        let second = try #require(fills.succeed(first[0], at: .milliseconds(2)).next)
        #expect(fills.fail(first[0], at: .milliseconds(3)).outcome == .none)
        #expect(fills.request([user(1)], at: .milliseconds(3)) == [.reuse(snapshot: "user:1")])
        #expect(fills.fail(second, at: .milliseconds(4)).outcome == .failWaiters(nextKeys: nil))
        #expect(fills.fail(second, at: .milliseconds(5)).outcome == .none)
        #expect(fills.scheduler.runningCount(.user) == 0)
        // The freed slot is not freed twice: the next miss starts one query, and one only.
        _ = fills.request([user(3)], at: .milliseconds(6))
        #expect(fills.startBatches(at: .milliseconds(6)).count == 1)
        #expect(fills.scheduler.runningCount(.user) == 1)
    }

    @Test func batchesHoldAtMostMaxBatchSizeKeysAndLeaderboardsOne() throws {
        var fills = Fills(maxBatchSize: 3)
        _ = fills.request((1...7).map { user(Int64($0)) })
        let first = fills.startBatches()
        #expect(first.map(\.keys.count) == [3])
        let afterFirst = fills.succeed(first[0], at: .milliseconds(1)).next
        let second = try #require(afterFirst)
        #expect(second.keys == [user(4), user(5), user(6)])
        #expect(fills.succeed(second, at: .milliseconds(2)).next?.keys == [user(7)])

        var boards = Fills()
        let weekly = CacheKey(family: .leaderboardWeekly, id: 0)
        _ = boards.request([weekly])
        let running = boards.startBatches()
        boards.scheduler.invalidate([weekly])
        _ = boards.request([weekly], at: .milliseconds(1))
        boards.scheduler.invalidate([weekly])
        _ = boards.request([weekly], at: .milliseconds(1))
        #expect(boards.succeed(running[0], at: .milliseconds(2)).next?.keys == [weekly])
    }

    private func user(_ id: Int64) -> CacheKey { CacheKey(family: .user, id: id) }
}

/// A scheduler with `Int` waiters (1, 2, … in the order fills were created) and a clock that
/// starts at an arbitrary instant.
private struct Fills {
    typealias Scheduler = FillScheduler<Int>
    var scheduler: Scheduler
    private var waiters = 0
    private let start = NIODeadline.uptimeNanoseconds(7_000_000_000)

    init(maxBatchSize: Int = 500, concurrencyPerFamily: Int = 4, maxWaiting: Int = 10_000) {
        scheduler = Scheduler(limits: .init(
            maxBatchSize: maxBatchSize, concurrencyPerFamily: concurrencyPerFamily, maxWaiting: maxWaiting))
    }

    func time(_ offset: TimeAmount) -> NIODeadline { start + offset }

    /// The misses of one request.
    mutating func request(_ keys: [CacheKey], at offset: TimeAmount = .zero) -> [Outcome] {
        var waiters = self.waiters
        defer { self.waiters = waiters }
        var outcomes: [Outcome] = []
        for key in keys {
            outcomes.append(Outcome(scheduler.miss(key, now: time(offset)) {
                waiters += 1
                return waiters
            }))
        }
        return outcomes
    }

    mutating func startBatches(at offset: TimeAmount = .zero) -> [Scheduler.Batch] {
        scheduler.startBatches(now: time(offset))
    }

    /// The batch's query failed: what the scheduler said, and the next batch it started.
    mutating func fail(_ batch: Scheduler.Batch, at offset: TimeAmount) -> (outcome: Failure, next: Scheduler.Batch?) {
        let action = scheduler.batchFailed(batch, now: time(offset))
        if case .failWaiters(let next) = action { return (Failure(action), next) }
        return (Failure(action), nil)
    }

    /// The batch's query found every key.
    mutating func succeed(_ batch: Scheduler.Batch, at offset: TimeAmount, snapshot: String? = nil) -> Scheduler.Completion {
        let values = Dictionary(batch.keys.map { ($0, FilledValue(json: nil, secondsUntilPeriodEnd: nil, snapshot: snapshot ?? $0.name)) },
                                uniquingKeysWith: { first, _ in first })
        return scheduler.batchSucceeded(batch, values: values, now: time(offset))
    }
}

/// A `MissAction` that tests can compare; a reused value is told by its snapshot.
private enum Outcome: Equatable {
    case join(Int)
    case reuse(snapshot: String)
    case enqueued(Int)
    case shed(queued: Int)

    init(_ action: FillScheduler<Int>.MissAction) {
        switch action {
        case .join(let waiter): self = .join(waiter)
        case .reuse(let value): self = .reuse(snapshot: value.snapshot)
        case .enqueued(let waiter): self = .enqueued(waiter)
        case .shed(let queued): self = .shed(queued: queued)
        }
    }
}

/// A `FailureAction` that tests can compare.
private enum Failure: Equatable {
    case none
    case failWaiters(nextKeys: [CacheKey]?)

    init(_ action: FillScheduler<Int>.FailureAction) {
        switch action {
        case .none: self = .none
        case .failWaiters(let next): self = .failWaiters(nextKeys: next?.keys)
        }
    }
}

extension FillScheduler.Batch {
    fileprivate var keys: [CacheKey] { items.map(\.key) }
}
