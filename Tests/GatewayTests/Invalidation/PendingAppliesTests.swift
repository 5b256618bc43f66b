@testable import Gateway
@testable import Invalidation
import NIOCore
import NIOPosix
import Testing

/// The listener confirms a stream position only once every batch before it is applied.
@Suite struct PendingAppliesTests {
    private struct RedisDown: Error {}

    /// Two batches on their way on one event loop, confirming positions 100 and 200.
    private func withTwoBatches(
        _ body: (inout PendingApplies, EventLoopPromise<Void>, EventLoopPromise<Void>) throws -> Void
    ) throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let loop = group.next()
        var pending = PendingApplies()
        let first = loop.makePromise(of: Void.self)
        let second = loop.makePromise(of: Void.self)
        pending.add(first.futureResult, confirming: 100)
        pending.add(second.futureResult, confirming: 200)
        try body(&pending, first, second)
    }

    @Test func aPositionWaitsForTheBatchesBeforeIt() throws {
        try withTwoBatches { pending, first, second in
            pending.add(confirming: 250)
            second.succeed()
            try second.futureResult.wait()
            try pending.collectFinished()
            #expect(pending.appliedPosition == 0, "the second batch finished first, but the first is still on its way")
            #expect(pending.count == 3)

            first.succeed()
            try pending.waitForOldest()
            #expect(pending.appliedPosition == 250)
            #expect(pending.isEmpty)
        }
    }

    @Test func aFailedBatchStopsTheStreamAndConfirmsNothingAfterIt() throws {
        try withTwoBatches { pending, first, second in
            first.succeed()
            second.fail(RedisDown())
            #expect(throws: RedisDown.self) {
                try pending.waitForOldest()
                try pending.waitForOldest()
            }
            #expect(pending.appliedPosition == 100)
        }
    }

    @Test func aBatchThatNeverFinishesTimesOut() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        var pending = PendingApplies(limit: .milliseconds(50))
        let stuck = group.next().makePromise(of: Void.self)
        pending.add(stuck.futureResult, confirming: 100)
        #expect(throws: InvalidationError.self) { try pending.waitForOldest() }
        #expect(pending.appliedPosition == 0)
        stuck.succeed()  // a promise must not be leaked unfulfilled
    }
}
