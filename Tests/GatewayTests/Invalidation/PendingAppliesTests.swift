import NIOCore
import NIOPosix
import Testing
@testable import Gateway

/// The listener confirms a stream position only once every batch before it is applied.
@Suite struct PendingAppliesTests {
    private struct RedisDown: Error {}

    private func withLoop(_ body: (any EventLoop) throws -> Void) throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        try body(group.next())
    }

    @Test func aPositionWaitsForTheBatchesBeforeIt() throws {
        try withLoop { loop in
            var pending = PendingApplies()
            let first = loop.makePromise(of: Void.self)
            let second = loop.makePromise(of: Void.self)
            pending.add(first.futureResult, confirming: 100)
            pending.add(second.futureResult, confirming: 200)
            pending.add(confirming: 250)

            second.succeed()
            try second.futureResult.wait()
            try pending.collectFinished()
            #expect(pending.confirmedPosition == 0, "the second batch finished first, but the first is still on its way")
            #expect(pending.count == 3)

            first.succeed()
            try pending.waitForOldest()
            #expect(pending.confirmedPosition == 250)
            #expect(pending.isEmpty)
        }
    }

    @Test func aFailedBatchStopsTheStreamAndConfirmsNothingAfterIt() throws {
        try withLoop { loop in
            var pending = PendingApplies()
            let first = loop.makePromise(of: Void.self)
            let second = loop.makePromise(of: Void.self)
            pending.add(first.futureResult, confirming: 100)
            pending.add(second.futureResult, confirming: 200)
            first.succeed()
            second.fail(RedisDown())
            #expect(throws: RedisDown.self) {
                try pending.waitForOldest()
                try pending.waitForOldest()
            }
            #expect(pending.confirmedPosition == 100)
        }
    }

    @Test func aBatchThatNeverFinishesTimesOut() throws {
        try withLoop { loop in
            var pending = PendingApplies(limit: .milliseconds(50))
            let stuck = loop.makePromise(of: Void.self)
            pending.add(stuck.futureResult, confirming: 100)
            #expect(throws: InvalidationError.self) { try pending.waitForOldest() }
            #expect(pending.confirmedPosition == 0)
            stuck.succeed()  // a promise must not be leaked unfulfilled
        }
    }
}
