import NIOCore
import RESP
import Testing

@testable import Gateway

/// The buffer limits' decisions, without sockets: when a client's requests wait, and which
/// client is disconnected for what.
@Suite struct ClientBufferLimitsTests {
    private let limits = ClientBufferLimits(
        outputSoftBytes: 1_000_000, outputHardBytes: 8_000_000, queryBytes: 2_000_000, gatewayBytes: 50_000_000)

    @Test func aClientWithinEveryLimitStays() {
        #expect(limits.verdict(output: 900_000, input: 1_900_000, gatewayTotal: 49_000_000) == nil)
    }

    @Test func repliesNotReadPastTheHardLimitDisconnect() {
        #expect(limits.verdict(output: 8_000_001, input: 0, gatewayTotal: 8_000_001) == .outputBuffer)
    }

    @Test func requestBytesPastTheQueryLimitDisconnect() {
        #expect(limits.verdict(output: 0, input: 2_000_001, gatewayTotal: 2_000_001) == .queryBuffer)
    }

    @Test func overTheGatewayLimitOnlyClientsPastTheSoftLimitGo() {
        #expect(limits.verdict(output: 1_200_000, input: 0, gatewayTotal: 50_000_001) == .gatewayLimit)
        #expect(limits.verdict(output: 600_000, input: 600_000, gatewayTotal: 50_000_001) == .gatewayLimit)
        // One that keeps up holds less than the soft limit and stays, whatever the others hold.
        #expect(limits.verdict(output: 900_000, input: 0, gatewayTotal: 90_000_000) == nil)
    }

    @Test func aGatewayLimitOfZeroIsNoLimit() {
        var unlimited = limits
        unlimited.gatewayBytes = 0
        #expect(unlimited.verdict(output: 7_000_000, input: 0, gatewayTotal: .max / 2) == nil)
    }

    @Test func theReplyEstimateFollowsLargeRepliesAtOnceAndSmallOnesSlowly() {
        var budget = ClientOutputBudget(softLimit: 1 << 20)
        #expect(budget.replyEstimate == ClientOutputBudget.initialReplyEstimate)
        budget.replyWritten(bytes: 8_530)
        #expect(budget.replyEstimate == 8_530)
        budget.replyWritten(bytes: 100)
        #expect(budget.replyEstimate == 8_530 - 8_530 / 16)
        for _ in 0..<200 { budget.replyWritten(bytes: 100) }
        #expect(budget.replyEstimate == ClientOutputBudget.smallestEstimate)  // a request costs work however small
    }

    @Test func requestsWaitOnceTheBytesOwedReachTheSoftLimit() {
        var budget = ClientOutputBudget(softLimit: 1 << 20)
        budget.replyWritten(bytes: 8_530)  // leaderboard-sized replies: 122 may be owed
        budget.flushed()
        #expect(budget.allowsAnotherRequest(pendingReplies: 122))
        #expect(!budget.allowsAnotherRequest(pendingReplies: 123))
        budget.bufferedChanged(to: 1 << 19)  // half the limit is in the socket's queue
        #expect(budget.allowsAnotherRequest(pendingReplies: 61))
        #expect(!budget.allowsAnotherRequest(pendingReplies: 62))
    }

    @Test func repliesWrittenBeforeTheFlushCountUntilItHappens() {
        // Near-cache hits are answered while their requests are decoded: a read of pipelined
        // GETs must stop at the soft limit, not after megabytes of replies.
        var budget = ClientOutputBudget(softLimit: 1 << 20)
        var answered = 0
        while budget.allowsAnotherRequest(pendingReplies: 0) && answered < 10_000 {
            budget.replyWritten(bytes: 8_530)
            answered += 1
        }
        #expect(answered == (1 << 20) / 8_530 + 1)
        budget.flushed()
        #expect(budget.allowsAnotherRequest(pendingReplies: 0))
    }

    @Test func theConnectionHoldsItsRequestsWhileTheOutputIsOverTheSoftLimitAndResumesAfter() {
        var machine = ClientConnectionStateMachine<Int>(maxPendingReplies: 1024, outputSoftLimit: 100_000)
        #expect(machine.mayRunAnotherRequest)
        let resumedWithNothingHeld = machine.outputBuffered(bytes: 150_000)
        #expect(!resumedWithNothingHeld)
        #expect(!machine.mayRunAnotherRequest)
        machine.requestsHeldBack()
        let whileOver = machine.readRequested()
        #expect(whileOver == .hold)
        let resumed = machine.outputBuffered(bytes: 0)  // the client read its replies: go on
        #expect(resumed)
        #expect(machine.mayRunAnotherRequest)
        let afterwards = machine.readRequested()
        #expect(afterwards == .read)
    }

    @Test func aMissRaisesTheEstimateToItsCostAndItsChargeIsReleasedWithTheReplies() {
        var budget = ClientOutputBudget(softLimit: 1 << 20)
        budget.replyWritten(bytes: 5)
        let charged = budget.charge() + budget.charge()
        let missCharge = budget.chargeMiss()
        #expect(missCharge == ClientOutputBudget.missCost)
        #expect(budget.replyEstimate == ClientOutputBudget.missCost)
        let released = budget.release() + budget.release()
        #expect(released == charged + missCharge)  // everything charged comes back, nothing more
        #expect(budget.release() == 0)
        #expect(budget.chargeMiss() == 0)  // nothing in flight: nothing to charge
    }

    @Test func theLoopAdmitsAClientOwingNothingEvenWhenFullAndResumesWaitersInTurn() {
        var admission = InFlightAdmission<String>(capacity: 10_000)
        admission.charge(12_000)
        #expect(admission.admits(pendingReplies: 0))
        #expect(!admission.admits(pendingReplies: 1))
        admission.wait("a")
        admission.wait("b")
        let notYet = admission.release(1_000)  // still full
        #expect(!notYet)
        let schedule = admission.release(5_000)
        #expect(schedule)
        let again = admission.release(100)  // already scheduled
        #expect(!again)
        admission.resumptionStarted()
        #expect(admission.nextWaiter() == "a")
        admission.charge(5_000)  // a's requests fill the room again: b waits for the next release
        #expect(admission.nextWaiter() == nil)
        #expect(admission.waitingCount == 1)
    }

    @Test func missesBeyondTheLoopsBoundAreShedUntilOneEnds() {
        var admission = InFlightAdmission<String>(capacity: 10_000, maxMisses: 2)
        let first = admission.missStarts(), second = admission.missStarts(), third = admission.missStarts()
        #expect(first && second && !third)
        admission.missEnded()
        let fourth = admission.missStarts()
        #expect(fourth)
        #expect(admission.missesInFlight == 2)
    }

    @Test func inFlightRepliesCountAgainstTheSoftLimitBeforeTheyArrive() {
        var machine = ClientConnectionStateMachine<Int>(maxPendingReplies: 1024, outputSoftLimit: 100_000)
        machine.replyWritten(bytes: 10_000)
        _ = machine.outputFlushed()
        for index in 0..<9 {
            #expect(machine.mayRunAnotherRequest, "request \(index)")
            _ = machine.replyAwaitingBackend(index)
        }
        #expect(machine.mayRunAnotherRequest)
        _ = machine.replyAwaitingBackend(9)
        #expect(!machine.mayRunAnotherRequest)  // ten 10 KB replies owed: the soft limit
    }
}
