@testable import Invalidation
import Testing

/// The listener confirms a stream position only once every batch before it is applied
/// (pure: batches are numbers, their answers inputs).
@Suite struct PendingAppliesTests {
    private let t0 = ContinuousClock.now

    /// Two batches on their way, confirming positions 100 and 200.
    private func twoBatches() -> PendingApplies {
        var pending = PendingApplies()
        pending.add(batch: 1, sentAt: t0, confirming: 100)
        pending.add(batch: 2, sentAt: t0 + .seconds(1), confirming: 200)
        return pending
    }

    @Test func aPositionWaitsForTheBatchesBeforeIt() {
        var pending = twoBatches()
        pending.add(confirming: 250, at: t0)
        let applied0 = pending.markApplied(batch: 2)
        #expect(applied0)
        #expect(pending.appliedPosition == 0, "the second batch finished first, but the first is still on its way")
        #expect(pending.batchCount == 2)
        #expect(pending.oldest?.batch == 1 && pending.oldest?.movedAt == t0)

        let applied1 = pending.markApplied(batch: 1)
        #expect(applied1)
        #expect(pending.appliedPosition == 250)
        #expect(pending.isEmpty && pending.batchCount == 0 && pending.oldest == nil)
    }

    @Test func anUnappliedBatchHoldsBackEveryLaterPosition() {
        var pending = twoBatches()
        let applied2 = pending.markApplied(batch: 1)
        #expect(applied2)
        #expect(pending.appliedPosition == 100)
        #expect(pending.isWaiting(for: 2) && !pending.isWaiting(for: 1))
        #expect(pending.oldest?.batch == 2 && pending.oldest?.movedAt == t0 + .seconds(1))
        pending.add(confirming: 300, at: t0)
        #expect(pending.appliedPosition == 100)
    }

    @Test func anAnswerForABatchNotOnItsWayChangesNothing() {
        var pending = twoBatches()
        let applied3 = pending.markApplied(batch: 1)
        #expect(applied3)
        let applied4 = pending.markApplied(batch: 1)
        #expect(!applied4, "already collected")
        let applied5 = pending.markApplied(batch: 7)
        #expect(!applied5, "never sent")
        #expect(pending.appliedPosition == 100 && pending.batchCount == 1)
    }

    @Test func aPositionWithNothingBeforeItIsAppliedAtOnce() {
        var pending = PendingApplies()
        pending.add(confirming: 40, at: t0)
        #expect(pending.appliedPosition == 40 && pending.isEmpty)
    }

    @Test func progressRestartsABatchsClockButNotAnAppliedOnes() {
        var pending = twoBatches()
        pending.progressed(batch: 1, at: t0 + .seconds(5))
        #expect(pending.oldest?.batch == 1 && pending.oldest?.movedAt == t0 + .seconds(5))
        pending.markApplied(batch: 1)
        pending.progressed(batch: 1, at: t0 + .seconds(9))
        #expect(pending.oldest?.batch == 2 && pending.oldest?.movedAt == t0 + .seconds(1), "batch 1 is collected")
    }
}
