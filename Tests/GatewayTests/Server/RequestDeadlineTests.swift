@testable import Gateway
import NIOCore
import Testing

/// The slowloris clock, driven without sockets or timers.
@Suite struct RequestDeadlineTests {
    private let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)
    private func at(_ seconds: Double) -> NIODeadline { t0 + .nanoseconds(Int64(seconds * 1e9)) }

    @Test func aRequestThatNeverCompletesIsClosedAtTheLimitCountedFromItsFirstByte() {
        var deadline = RequestDeadline(limit: .seconds(10))
        #expect(deadline.read(completedRequests: false, partialRemains: true, now: at(0)) == .schedule(at: at(10)))
        // Trickled bytes neither move the clock nor schedule a second timer.
        #expect(deadline.read(completedRequests: false, partialRemains: true, now: at(2)) == .none)
        #expect(deadline.read(completedRequests: false, partialRemains: true, now: at(9.9)) == .none)
        #expect(deadline.timerFired(now: at(10)) == .close)
    }

    @Test func completedRequestsStartTheClockAgainSoAPipelinerIsNeverCut() {
        var deadline = RequestDeadline(limit: .seconds(10))
        #expect(deadline.read(completedRequests: true, partialRemains: true, now: at(0)) == .schedule(at: at(10)))
        #expect(deadline.read(completedRequests: true, partialRemains: true, now: at(8)) == .none)
        // The timer finds the newer partial request and waits for its own limit.
        #expect(deadline.timerFired(now: at(10)) == .schedule(at: at(18)))
        #expect(deadline.read(completedRequests: true, partialRemains: false, now: at(12)) == .none)
        #expect(deadline.timerFired(now: at(18)) == .none)
        #expect(deadline.read(completedRequests: false, partialRemains: true, now: at(20)) == .schedule(at: at(30)))
    }

    @Test func wholeRequestsAloneNeedNoTimer() {
        var deadline = RequestDeadline(limit: .seconds(10))
        #expect(deadline.read(completedRequests: true, partialRemains: false, now: at(0)) == .none)
        #expect(deadline.timerFired(now: at(30)) == .none)
    }
}
