import CacheModel
@testable import Invalidation
import Postgres
import Testing

/// The listener's decisions, driven without a socket, a server or a thread: what is read,
/// what Redis answers and the time are inputs; what to apply, wait for and confirm are outputs.
@Suite struct ReplicationStreamStateMachineTests {
    typealias Machine = ReplicationStreamStateMachine
    typealias Action = ReplicationStreamStateMachine.Action

    private let t0 = ContinuousClock.now
    private let commitTime: Int64 = 786_000_000_000_000  // µs since 2000-01-01
    private var committed: Int64 { commitTime + ReplicationMessage.postgresEpochOffsetMicroseconds }

    /// A machine streaming a resumed slot that is caught up once position `caughtUpAt` is applied.
    private func streaming(caughtUpAt: UInt64 = 1, resumed: Bool = true, limits: Machine.Limits = .init()) -> Machine {
        var machine = Machine(limits: limits)
        let actions = machine.streamStarted(resumed: resumed, caughtUpAt: caughtUpAt, now: t0)
        #expect(actions.isEmpty)
        return machine
    }

    private func data(_ payload: PgOutputMessage) -> ReplicationMessage { .data(start: 0, payload: payload) }
    private func begin(_ xid: UInt32) -> ReplicationMessage {
        data(.begin(finalLSN: 0, commitTime: commitTime, xid: xid))
    }
    private func message(_ content: String) -> ReplicationMessage {
        data(.message(transactional: true, lsn: 0, prefix: InvalidationTransactions.messagePrefix, content: Array(content.utf8)))
    }
    private func commit(_ endLSN: UInt64) -> ReplicationMessage {
        data(.commit(commitLSN: endLSN - 1, endLSN: endLSN, commitTime: commitTime))
    }
    /// One transaction of `keys` written by `xid`, ending at `endLSN`.
    private func transaction(_ machine: inout Machine, xid: UInt32, keys: String, endLSN: UInt64) {
        machine.received(begin(xid))
        machine.received(message("\(xid)|\(keys)"))
        machine.received(commit(endLSN))
    }
    private func write(_ keys: [String], _ xid: String, lag: Bool = true) -> InvalidationWrite {
        InvalidationWrite(keys: keys, transactionID: xid, committedMicroseconds: lag ? committed : nil)
    }
    private func batches(_ actions: [Action]) -> [Int] {
        actions.compactMap { if case .apply(let batch, _) = $0 { batch } else { nil } }
    }
    private func confirmations(_ actions: [Action]) -> [UInt64] {
        actions.compactMap { if case .sendStatusUpdate(let position) = $0 { position } else { nil } }
    }

    @Test func aTransactionReadAcrossTwoReadsIsAppliedWholeAtItsCommit() {
        var machine = streaming(caughtUpAt: 1)
        machine.received(begin(7))
        machine.received(message("7|user:1,user_stats:1"))
        let step1 = machine.inputRead(now: t0)
        #expect(step1.isEmpty, "nothing committed yet")
        #expect(!machine.hasBatchesInFlight)
        machine.received(message("7|listing:3"))
        machine.received(commit(200))
        let step2 = machine.inputRead(now: t0)
        #expect(step2 == [
            .countMessages(2),
            .apply(batch: 0, writes: [write(["user:1", "user_stats:1"], "7", lag: false), write(["listing:3"], "7", lag: false)]),
        ], "caught up only at 1 but not yet applied: replayed writes carry no commit time")
        let step3 = machine.applied(batch: 0, now: t0)
        #expect(step3.isEmpty)
        let step4 = machine.timePassed(now: t0 + .milliseconds(100))
        #expect(step4 == [.caughtUp(replayedKeys: 3), .sendStatusUpdate(confirming: 200)])
    }

    @Test func writesAfterCatchingUpKeepTheirCommitTimeForTheLag() {
        var machine = streaming(caughtUpAt: 100, resumed: false)
        machine.received(.keepalive(walEnd: 100, replyRequested: false))
        let step1 = machine.inputRead(now: t0)
        #expect(step1.isEmpty)
        let step2 = machine.timePassed(now: t0)
        #expect(step2 == [.caughtUp(replayedKeys: nil)], "a new slot has nothing to replay")
        transaction(&machine, xid: 8, keys: "listing:1", endLSN: 150)
        let step3 = machine.inputRead(now: t0)
        #expect(step3 == [.countMessages(1), .apply(batch: 0, writes: [write(["listing:1"], "8")])])
    }

    @Test func batchesAppliedOutOfOrderAreConfirmedInStreamOrder() {
        var machine = streaming()
        transaction(&machine, xid: 1, keys: "listing:1", endLSN: 100)
        let step1 = machine.inputRead(now: t0)
        #expect(batches(step1) == [0])
        transaction(&machine, xid: 2, keys: "listing:2", endLSN: 200)
        let step2 = machine.inputRead(now: t0)
        #expect(batches(step2) == [1])
        machine.received(.keepalive(walEnd: 250, replyRequested: false))
        let step3 = machine.inputRead(now: t0)
        #expect(step3.isEmpty)

        let step4 = machine.applied(batch: 1, now: t0)
        #expect(step4.isEmpty)
        let step5 = machine.timePassed(now: t0 + .seconds(1))
        #expect(confirmations(step5).isEmpty,
                "the second batch is applied, but the first is still on its way")
        let step6 = machine.applied(batch: 0, now: t0)
        #expect(step6.isEmpty)
        let step7 = machine.timePassed(now: t0 + .seconds(2))
        #expect(confirmations(step7) == [250])
        #expect(!machine.hasBatchesInFlight)
    }

    @Test func nothingIsConfirmedPastAnUnappliedBatchEvenWhenStopping() {
        var machine = streaming()
        transaction(&machine, xid: 1, keys: "listing:1", endLSN: 100)
        _ = machine.inputRead(now: t0)
        let step1 = machine.applied(batch: 0, now: t0)
        #expect(step1.isEmpty)
        transaction(&machine, xid: 2, keys: "listing:2", endLSN: 200)
        _ = machine.inputRead(now: t0)
        transaction(&machine, xid: 3, keys: "listing:3", endLSN: 300)
        _ = machine.inputRead(now: t0)
        let step2 = machine.applied(batch: 2, now: t0)
        #expect(step2.isEmpty)
        let step3 = machine.timePassed(now: t0 + .seconds(1))
        #expect(confirmations(step3) == [100], "200 and 300 wait for batch 1")
        let step4 = machine.streamEnded()
        #expect(step4.isEmpty, "100 was confirmed already; 300 waits for batch 1")
    }

    @Test func aFailedBatchStopsConfirmationAndTheStreamIsReplayed() {
        var machine = streaming()
        transaction(&machine, xid: 1, keys: "listing:1", endLSN: 100)
        _ = machine.inputRead(now: t0)
        transaction(&machine, xid: 2, keys: "listing:2", endLSN: 200)
        _ = machine.inputRead(now: t0)
        transaction(&machine, xid: 3, keys: "listing:3", endLSN: 300)
        _ = machine.inputRead(now: t0)
        let step1 = machine.applied(batch: 0, now: t0)
        #expect(step1.isEmpty)
        let step2 = machine.applied(batch: 2, now: t0)
        #expect(step2.isEmpty)
        let step3 = machine.failed(batch: 1, reason: "Redis refused")
        #expect(step3 == [.abandonStream(reason: "Redis refused")])
        let step4 = machine.streamEnded()
        #expect(step4 == [.sendStatusUpdate(confirming: 100)], "only what precedes the failed batch")
        let step5 = machine.connectionLost(reason: "Redis refused")
        #expect(step5 == [.reconnect(after: .milliseconds(50), report: "Redis refused")])

        // The next connection streams from 100 again; a late answer of the old stream changes nothing.
        let step6 = machine.streamStarted(resumed: true, caughtUpAt: 300, now: t0)
        #expect(step6.isEmpty, "connected again only once caught up")
        let step7 = machine.applied(batch: 1, now: t0)
        #expect(step7.isEmpty)
        #expect(!machine.hasBatchesInFlight)
        transaction(&machine, xid: 2, keys: "listing:2", endLSN: 200)
        transaction(&machine, xid: 3, keys: "listing:3", endLSN: 300)
        let replay = machine.inputRead(now: t0)
        #expect(replay == [.countMessages(2), .countReplays(2), .apply(batch: 3, writes: [write(["listing:2"], "2", lag: false),
                                                                         write(["listing:3"], "3", lag: false)])])
        let step8 = machine.applied(batch: 3, now: t0)
        #expect(step8.isEmpty)
        let step9 = machine.timePassed(now: t0 + .seconds(1))
        #expect(step9 == [.reportConnectedAgain, .caughtUp(replayedKeys: 2), .sendStatusUpdate(confirming: 300)])
    }

    @Test func aKeepaliveAskingForAReplyIsAnsweredAtOnceWithTheAppliedPosition() {
        var machine = streaming()
        machine.received(.keepalive(walEnd: 100, replyRequested: false))
        _ = machine.inputRead(now: t0)
        let step1 = machine.timePassed(now: t0 + .seconds(1))
        #expect(confirmations(step1) == [100])
        machine.received(.keepalive(walEnd: 100, replyRequested: true))
        _ = machine.inputRead(now: t0 + .seconds(1))
        let step2 = machine.timePassed(now: t0 + .seconds(1))
        #expect(step2 == [.sendStatusUpdate(confirming: 100)],
                "a requested reply does not wait for the feedback interval")
        let step3 = machine.timePassed(now: t0 + .seconds(2))
        #expect(step3.isEmpty, "nothing new to confirm")
        let step4 = machine.timePassed(now: t0 + .seconds(11))
        #expect(confirmations(step4) == [100], "idle feedback every 10 s")
    }

    @Test func aSilentServerIsPingedHalfWayAndGivenUpAtTheLimit() {
        var limits = Machine.Limits()
        limits.silenceLimit = .seconds(10)
        var machine = streaming(limits: limits)
        _ = machine.inputRead(now: t0 + .seconds(4))
        #expect(machine.timePassed(now: t0 + .seconds(4)).isEmpty)
        _ = machine.inputRead(now: t0 + .seconds(5))
        #expect(machine.timePassed(now: t0 + .seconds(5)) == [.ping(confirming: 0)], "half the limit: ask for an answer")
        _ = machine.inputRead(now: t0 + .seconds(9))
        #expect(machine.timePassed(now: t0 + .seconds(9)).isEmpty, "one ping per silence")
        _ = machine.inputRead(now: t0 + .seconds(10))
        let step = machine.timePassed(now: t0 + .seconds(10))
        guard case .abandonStream(let reason) = step.first else {
            Issue.record("a server silent for the limit is given up: \(step)")
            return
        }
        #expect(reason.contains("10.0 s") && reason.contains("listener_timeout_seconds"), "\(reason)")
    }

    @Test func anAnsweredPingKeepsTheStreamAndSilenceCountsOnlyWhileReading() {
        var limits = Machine.Limits()
        limits.silenceLimit = .seconds(10)
        var machine = streaming(limits: limits)
        _ = machine.inputRead(now: t0 + .seconds(5))
        #expect(machine.timePassed(now: t0 + .seconds(5)) == [.ping(confirming: 0)])
        machine.received(.keepalive(walEnd: 100, replyRequested: false))
        _ = machine.inputRead(now: t0 + .seconds(5) + .milliseconds(1))
        let answered = machine.timePassed(now: t0 + .seconds(9))
        #expect(!answered.contains { if case .abandonStream = $0 { true } else { false } })
        #expect(!answered.contains(.ping(confirming: 100)), "heard 4 s ago: no ping yet")
        // Pinged at 11, then the listener waited on Redis until 30 without reading: the answer
        // may sit unread in the socket, so only a read at or past 16 without it gives up.
        #expect(machine.timePassed(now: t0 + .seconds(11)).contains(.ping(confirming: 100)), "heard 6 s ago")
        let late = machine.timePassed(now: t0 + .seconds(30))
        #expect(!late.contains { if case .abandonStream = $0 { true } else { false } }, "\(late)")
        machine.received(.keepalive(walEnd: 100, replyRequested: false))
        _ = machine.inputRead(now: t0 + .seconds(30))
        let read = machine.timePassed(now: t0 + .seconds(30))
        #expect(!read.contains { if case .abandonStream = $0 { true } else { false } }, "\(read)")
    }

    @Test func aKeepaliveInsideATransactionConfirmsNothingOfIt() {
        var machine = streaming()
        machine.received(begin(4))
        machine.received(message("4|listing:4"))
        machine.received(.keepalive(walEnd: 500, replyRequested: true))
        let step1 = machine.inputRead(now: t0)
        #expect(step1.isEmpty)
        let step2 = machine.timePassed(now: t0 + .seconds(1))
        #expect(confirmations(step2).isEmpty)
        machine.received(commit(600))
        let step3 = machine.inputRead(now: t0 + .seconds(1))
        #expect(batches(step3) == [0])
        let step4 = machine.applied(batch: 0, now: t0 + .seconds(1))
        #expect(step4.isEmpty)
        let step5 = machine.timePassed(now: t0 + .seconds(1))
        #expect(confirmations(step5) == [600], "the pending reply request is answered")
    }

    @Test func anApplyPastItsTimeLimitAbandonsTheStream() {
        var limits = Machine.Limits()
        limits.silenceLimit = .seconds(3_600)  // a silent server is another test's subject
        var machine = streaming(limits: limits)
        transaction(&machine, xid: 1, keys: "listing:1", endLSN: 100)
        _ = machine.inputRead(now: t0)
        let step1 = machine.timePassed(now: t0 + .seconds(15))
        #expect(step1.isEmpty, "the limit is not yet passed")
        let step2 = machine.timePassed(now: t0 + .seconds(15) + .nanoseconds(1))
        #expect(step2
            == [.abandonStream(reason: InvalidationError.timedOut.description)])
        let step3 = machine.streamEnded()
        #expect(step3.isEmpty)
    }

    @Test func sixteenBatchesAreOnTheirWayAtMostAndTheNextWaitsForTheOldest() {
        var limits = Machine.Limits()
        limits.keysPerApply = 2
        var machine = streaming(limits: limits)
        // 17 writes of 2 keys in one transaction: 17 slices, the last carrying the position.
        machine.received(begin(1))
        for id in 1...17 { machine.received(message("1|listing:\(id),marketplace_listings:\(id)")) }
        machine.received(commit(900))
        #expect(!machine.wantsMoreInput, "the batch is full: send it before reading on")
        let first = machine.inputRead(now: t0)
        #expect(batches(first) == Array(0..<16))
        #expect(first.last == .waitForApply(batch: 0, deadline: t0 + .seconds(15)))
        let step1 = machine.applied(batch: 5, now: t0)
        #expect(step1 == [.waitForApply(batch: 0, deadline: t0 + .seconds(15))],
                "a later batch frees no place: still waiting for the oldest")
        let step2 = machine.applied(batch: 0, now: t0 + .seconds(1))
        #expect(step2 == [
            .apply(batch: 16, writes: [write(["listing:17", "marketplace_listings:17"], "1", lag: false)]),
        ])
        for batch in 1...15 where batch != 5 {
            let actions = machine.applied(batch: batch, now: t0)
            #expect(actions.isEmpty)
        }
        let step3 = machine.timePassed(now: t0 + .seconds(2))
        #expect(confirmations(step3).isEmpty, "the last slice carries the position")
        let step4 = machine.applied(batch: 16, now: t0)
        #expect(step4.isEmpty)
        let step5 = machine.timePassed(now: t0 + .seconds(3))
        #expect(confirmations(step5) == [900])
    }

    @Test func slicesOfABulkTransactionGoOutOnlyWhileFewKeysAreOnTheirWay() {
        var limits = Machine.Limits()
        limits.keysPerApply = 2
        limits.keysInFlight = 4
        var machine = streaming(limits: limits)
        // 5 writes of 2 keys in one transaction: 5 slices, but at most 4 keys on their way.
        machine.received(begin(1))
        for id in 1...5 { machine.received(message("1|listing:\(id),marketplace_listings:\(id)")) }
        machine.received(commit(700))
        let first = machine.inputRead(now: t0)
        #expect(batches(first) == [0, 1], "two slices fill the keys allowed in flight")
        let step1 = machine.applied(batch: 1, now: t0)
        #expect(batches(step1) == [2], "an applied batch frees its keys even behind an unapplied one")
        let step2 = machine.applied(batch: 0, now: t0)
        #expect(batches(step2) == [3])
        let step3 = machine.applied(batch: 2, now: t0)
        #expect(batches(step3) == [4])
        for batch in 3...4 {
            let actions = machine.applied(batch: batch, now: t0)
            #expect(batches(actions).isEmpty)
        }
        let step4 = machine.timePassed(now: t0 + .seconds(1))
        #expect(confirmations(step4) == [700])
    }

    @Test func aTransactionPastTheKeyThresholdFlushesItsFamiliesAndIsConfirmedAfterIt() {
        var limits = Machine.Limits()
        limits.flushFamiliesAboveKeys = 4
        var machine = streaming(limits: limits)
        transaction(&machine, xid: 1, keys: "user:1", endLSN: 100)
        machine.received(begin(2))
        for id in 1...3 { machine.received(message("2|listing:\(id),marketplace_listings:\(id)")) }
        machine.received(commit(200))
        transaction(&machine, xid: 3, keys: "user:3", endLSN: 300)
        let step1 = machine.inputRead(now: t0)
        #expect(step1 == [
            .countMessages(5),
            .flushFamilies(batch: 0, FamilyFlush(families: [.listing, .marketplaceListings], transactionIDs: ["2"])),
            .apply(batch: 1, writes: [write(["user:1"], "1", lag: false), write(["user:3"], "3", lag: false)]),
        ], "6 keys pass the threshold of 4: their families, not their keys; the small writes around it as usual")
        let step2 = machine.applied(batch: 1, now: t0)
        #expect(step2.isEmpty)
        let step3 = machine.timePassed(now: t0 + .seconds(1))
        #expect(confirmations(step3).isEmpty, "300 waits for the flush")
        let step4 = machine.applied(batch: 0, now: t0)
        #expect(step4.isEmpty)
        let step5 = machine.timePassed(now: t0 + .seconds(2))
        #expect(confirmations(step5) == [300])
    }

    @Test func aFlushAloneCarriesItsTransactionsPosition() {
        var limits = Machine.Limits()
        limits.flushFamiliesAboveKeys = 1
        var machine = streaming(limits: limits)
        transaction(&machine, xid: 5, keys: "user:1,user_stats:1", endLSN: 100)
        let step1 = machine.inputRead(now: t0)
        #expect(step1 == [.countMessages(1), .flushFamilies(batch: 0, FamilyFlush(families: [.user, .userStats], transactionIDs: ["5"]))])
        let step2 = machine.applied(batch: 0, now: t0)
        #expect(step2.isEmpty)
        let step3 = machine.timePassed(now: t0 + .seconds(1))
        #expect(step3 == [.caughtUp(replayedKeys: 0), .sendStatusUpdate(confirming: 100)])
    }

    @Test func aLongApplyIsGivenUpOnlyOnceItStopsProgressing() {
        var limits = Machine.Limits()
        limits.appliesInFlight = 1
        limits.silenceLimit = .seconds(3_600)  // a silent server is another test's subject
        var machine = streaming(limits: limits)
        transaction(&machine, xid: 1, keys: "listing:1", endLSN: 100)
        _ = machine.inputRead(now: t0)
        transaction(&machine, xid: 2, keys: "listing:2", endLSN: 200)
        let step1 = machine.inputRead(now: t0)
        #expect(step1 == [.countMessages(1), .waitForApply(batch: 0, deadline: t0 + .seconds(15))])
        for second in stride(from: 10, through: 50, by: 10) {
            machine.progressed(batch: 0, now: t0 + .seconds(second))
            let actions = machine.timePassed(now: t0 + .seconds(second + 14))
            #expect(actions.isEmpty, "given up at \(second + 14) s while progressing")
        }
        machine.received(.keepalive(walEnd: 250, replyRequested: false))
        let step2 = machine.inputRead(now: t0 + .seconds(51))
        #expect(step2.last == .waitForApply(batch: 0, deadline: t0 + .seconds(65)), "the wait ends 15 s after the last progress")
        machine.progressed(batch: 7, now: t0 + .seconds(60))
        let step3 = machine.timePassed(now: t0 + .seconds(65) + .nanoseconds(1))
        #expect(step3 == [.abandonStream(reason: InvalidationError.timedOut.description)],
                "15 s without progress; another batch's progress does not count")
    }

    @Test func transactionsStreamedAgainAreCountedAsReplaysAcrossConnections() {
        var machine = streaming()
        transaction(&machine, xid: 1, keys: "listing:1", endLSN: 100)
        transaction(&machine, xid: 2, keys: "listing:2", endLSN: 200)
        let step1 = machine.inputRead(now: t0)
        #expect(!step1.contains(.countReplays(1)) && !step1.contains(.countReplays(2)))
        _ = machine.connectionLost(reason: "reset")
        _ = machine.streamStarted(resumed: true, caughtUpAt: 300, now: t0)
        transaction(&machine, xid: 2, keys: "listing:2", endLSN: 200)
        transaction(&machine, xid: 3, keys: "listing:3", endLSN: 300)
        let step2 = machine.inputRead(now: t0)
        #expect(step2.prefix(2) == [.countMessages(2), .countReplays(1)], "200 came again, 300 is new")
        transaction(&machine, xid: 4, keys: "listing:4", endLSN: 400)
        let step3 = machine.inputRead(now: t0)
        #expect(!step3.contains(.countReplays(1)))
    }

    @Test func malformedMessagesAreLoggedAndTheRestApplied() {
        var machine = streaming()
        machine.received(begin(2))
        machine.received(message("no bar"))
        machine.received(message("2|listing:2"))
        machine.received(commit(50))
        let actions = machine.inputRead(now: t0)
        #expect(actions == [
            .logMalformed("no bar"), .countMessages(1), .apply(batch: 0, writes: [write(["listing:2"], "2", lag: false)]),
        ])
    }

    @Test func aNewSlotIsFlushedAndAResumedOneIsNot() {
        let machine = Machine()
        #expect(machine.slotPrepared(.resumed, slot: "s").isEmpty)
        #expect(machine.slotPrepared(.created(replacedLost: false), slot: "s")
            == [.flushAll(reason: "new replication slot s: writes made before it are unknown")])
        #expect(machine.slotPrepared(.created(replacedLost: true), slot: "s")
            == [.flushAll(reason: "PostgreSQL dropped the WAL of replication slot s; it was made again")])
    }

    @Test func reconnectionsBackOffAndReportEachNewErrorOnce() {
        var machine = Machine()
        let step1 = machine.connectionLost(reason: "refused")
        #expect(step1 == [.reconnect(after: .milliseconds(50), report: "refused")])
        let step2 = machine.connectionLost(reason: "refused")
        #expect(step2 == [.reconnect(after: .milliseconds(100), report: nil)])
        let step3 = machine.connectionLost(reason: "timeout")
        #expect(step3 == [.reconnect(after: .milliseconds(200), report: "timeout")])
        for _ in 0..<5 { _ = machine.connectionLost(reason: "timeout") }
        let step4 = machine.connectionLost(reason: "timeout")
        #expect(step4 == [.reconnect(after: .seconds(2), report: nil)])
        // A stream that starts but never catches up (Redis down) does not start the wait over.
        let step5 = machine.streamStarted(resumed: false, caughtUpAt: 100, now: t0)
        #expect(step5.isEmpty)
        let step6 = machine.connectionLost(reason: "timeout")
        #expect(step6 == [.reconnect(after: .seconds(2), report: nil)])
        // One that catches up does, and says it is connected again.
        _ = machine.streamStarted(resumed: false, caughtUpAt: 100, now: t0)
        machine.received(.keepalive(walEnd: 100, replyRequested: false))
        _ = machine.inputRead(now: t0)
        let step7 = machine.timePassed(now: t0)
        #expect(step7 == [.reportConnectedAgain, .caughtUp(replayedKeys: nil)])
        let step8 = machine.connectionLost(reason: "timeout")
        #expect(step8 == [.reconnect(after: .milliseconds(50), report: "timeout")])
    }
}
