import CacheModel
@testable import Invalidation
import Testing

/// The notify listener's decisions, driven without a socket, a server or a thread.
@Suite struct NotifyListenerStateMachineTests {
    typealias Machine = NotifyListenerStateMachine
    typealias Action = NotifyListenerStateMachine.Action

    private let t0 = ContinuousClock.now

    private func write(_ xid: Int, _ keys: String...) -> InvalidationWrite {
        InvalidationWrite(keys: keys, transactionID: String(xid), committedMicroseconds: 1_000)
    }

    /// A machine whose connection listens and has flushed.
    private func caughtUp(limits: Machine.Limits = .init()) -> Machine {
        var machine = Machine(limits: limits)
        _ = machine.listening()
        #expect(machine.flushed(now: t0) == [.caughtUp])
        return machine
    }

    @Test func everyConnectionFlushesBeforeItIsCaughtUpAndWhatArrivedMeanwhileGoesOutAfter() {
        var machine = Machine()
        #expect(machine.listening() == [.flushAll(reason: "listening from now: writes made before are unknown")])
        machine.received("5|1000|user:1")
        // Nothing is applied before the flush is done: the flush removes it anyway, and readiness waits for it.
        #expect(machine.inputRead(now: t0) == [.countMessages(1)])
        #expect(machine.flushed(now: t0) == [.caughtUp, .apply(batch: 0, writes: [write(5, "user:1")])])

        _ = machine.connectionLost(reason: "gone")
        let again = machine.listening()
        #expect(again == [.flushAll(reason: "the listener reconnected: notifications sent while it was away are lost")])
        #expect(machine.flushed(now: t0) == [.reportConnectedAgain, .caughtUp])
    }

    @Test func whatArrivesWhileABatchIsOnItsWayGoesOutAtOnce() {
        var machine = caughtUp()
        machine.received("1|1000|user:1")
        #expect(machine.inputRead(now: t0) == [.countMessages(1), .apply(batch: 0, writes: [write(1, "user:1")])])
        #expect(machine.hasApplyInFlight)
        machine.received("2|1000|user:2")
        machine.received("3|1000|listing:3,marketplace_listings:3")
        #expect(machine.inputRead(now: t0)
                == [.countMessages(2), .apply(batch: 1, writes: [write(2, "user:2"), write(3, "listing:3", "marketplace_listings:3")])])
        #expect(machine.applied(batch: 1, now: t0).isEmpty)
        #expect(machine.hasApplyInFlight)
        #expect(machine.applied(batch: 0, now: t0).isEmpty)
        #expect(!machine.hasApplyInFlight)
    }

    @Test func withEveryPlaceTakenWhatArrivesMakesTheNextBatchBigger() {
        var limits = Machine.Limits()
        limits.appliesInFlight = 1
        var machine = caughtUp(limits: limits)
        machine.received("1|1000|user:1")
        _ = machine.inputRead(now: t0)
        machine.received("2|1000|user:2")
        machine.received("3|1000|user:3")
        #expect(machine.inputRead(now: t0) == [.countMessages(2)])
        #expect(machine.applied(batch: 0, now: t0) == [.apply(batch: 1, writes: [write(2, "user:2"), write(3, "user:3")])])
    }

    @Test func batchesAreCutAtTheKeyLimitsPerApplyAndInFlight() {
        var limits = Machine.Limits()
        limits.keysPerApply = 3
        limits.keysInFlight = 4
        var machine = caughtUp(limits: limits)
        machine.received("1|1000|user:1,user:2")
        machine.received("2|1000|user:3,user:4")
        machine.received("3|1000|user:5")
        #expect(machine.inputRead(now: t0) == [.countMessages(3), .apply(batch: 0, writes: [write(1, "user:1", "user:2")]),
                                               .apply(batch: 1, writes: [write(2, "user:3", "user:4")])])
        #expect(machine.applied(batch: 0, now: t0) == [.apply(batch: 2, writes: [write(3, "user:5")])])
    }

    @Test func familiesGoFirstAndAMalformedPayloadFlushesEveryFamily() {
        var machine = caughtUp()
        machine.received("1|1000|*user")
        machine.received("2|1000|listing:1")
        #expect(machine.inputRead(now: t0) == [
            .countMessages(2), .flushFamilies(batch: 0, FamilyFlush(families: [.user], transactionIDs: ["1"])),
            .apply(batch: 1, writes: [write(2, "listing:1")])])
        machine.received("garbage")
        var everything = FamilyFlush()
        everything.add(Set(KeyFamily.allCases), transactionID: nil)
        #expect(everything.writersUnknown, "no transaction to check fills against: every fill in flight is kept from storing")
        #expect(machine.inputRead(now: t0) == [.logMalformed("garbage"), .countMessages(1), .flushFamilies(batch: 2, everything)])
    }

    @Test func theFamiliesOfSeveralStatementsAreFlushedTogetherWithEachWriter() {
        var limits = Machine.Limits()
        limits.appliesInFlight = 1
        var machine = caughtUp(limits: limits)
        machine.received("1|1000|user:1")
        _ = machine.inputRead(now: t0)
        machine.received("2|1000|*user")
        machine.received("3|1000|*listing,marketplace_listings")
        #expect(machine.inputRead(now: t0) == [.countMessages(2)])
        #expect(machine.applied(batch: 0, now: t0) == [.flushFamilies(batch: 1, FamilyFlush(
            families: [.user, .listing, .marketplaceListings], transactionIDs: ["2", "3"]))])
    }

    @Test func aLongApplyThatKeepsProgressingIsNotGivenUp() {
        var machine = caughtUp()
        machine.received("1|1000|*listing")
        _ = machine.inputRead(now: t0)
        // A flush of a large Redis: each SCAN step finished restarts the clock.
        for second in stride(from: 10, through: 60, by: 10) {
            machine.progressed(batch: 0, now: t0 + .seconds(second))
            #expect(machine.timePassed(now: t0 + .seconds(second + 5)).isEmpty, "cut at \(second + 5) s while progressing")
        }
        #expect(machine.timePassed(now: t0 + .seconds(76)) == [.abandon(reason: InvalidationError.timedOut.description)],
                "15 s without progress")
        machine.progressed(batch: 9, now: t0 + .seconds(80))
        #expect(machine.timePassed(now: t0 + .seconds(80)) == [.abandon(reason: InvalidationError.timedOut.description)],
                "another batch's progress does not count")
    }

    @Test func aFailedOrSlowApplyGivesUpTheConnectionWhichBringsTheFlushAgain() {
        var machine = caughtUp()
        machine.received("1|1000|user:1")
        _ = machine.inputRead(now: t0)
        #expect(machine.failed(batch: 7, reason: "old").isEmpty, "an answer for another batch is ignored")
        #expect(machine.failed(batch: 0, reason: "NOSCRIPT") == [.abandon(reason: "NOSCRIPT")])
        #expect(machine.timePassed(now: t0 + .seconds(14)).isEmpty)
        #expect(machine.timePassed(now: t0 + .seconds(16)) == [.abandon(reason: InvalidationError.timedOut.description)])
        #expect(machine.applied(batch: 0, now: t0).isEmpty)
        #expect(machine.timePassed(now: t0 + .seconds(60)).isEmpty, "nothing on its way, nothing late")
    }

    @Test func reconnectionsBackOffAndTheSameErrorIsReportedOnce() {
        var machine = Machine()
        #expect(machine.connectionLost(reason: "refused") == [.reconnect(after: .milliseconds(50), report: "refused")])
        #expect(machine.connectionLost(reason: "refused") == [.reconnect(after: .milliseconds(100), report: nil)])
        for _ in 0..<8 { _ = machine.connectionLost(reason: "refused") }
        #expect(machine.connectionLost(reason: "other") == [.reconnect(after: .seconds(2), report: "other")])
        // A connection whose recovery flush fails (Redis down) does not start the wait over.
        _ = machine.listening()
        #expect(machine.connectionLost(reason: "other") == [.reconnect(after: .seconds(2), report: nil)])
        _ = machine.listening()
        _ = machine.flushed(now: t0)
        #expect(machine.connectionLost(reason: "other") == [.reconnect(after: .milliseconds(50), report: "other")])
    }

    @Test func nothingIsReadOrSentWithoutAConnection() {
        var machine = Machine()
        machine.received("1|1000|user:1")
        #expect(machine.inputRead(now: t0).isEmpty)
        #expect(machine.flushed(now: t0).isEmpty)
        #expect(machine.applied(batch: 0, now: t0).isEmpty)
    }
}
