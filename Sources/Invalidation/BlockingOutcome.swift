import Dispatch
import NIOCore
import Synchronization

/// The result of an event-loop future for the invalidation listener, whose dedicated thread
/// blocks on its Redis calls instead of running on an event loop.
package final class BlockingOutcome<Value: Sendable>: Sendable {
    private let finished = DispatchSemaphore(value: 0)
    private let stored = Mutex<Result<Value, any Error>?>(nil)
    /// The Redis calls the work has finished so far.
    package let progress: ApplyProgress

    package init(_ future: EventLoopFuture<Value>, progress: ApplyProgress = ApplyProgress()) {
        self.progress = progress
        future.whenComplete { [self] result in
            stored.withLock { $0 = result }
            finished.signal()
        }
    }

    /// The result, once the future has completed.
    package var result: Result<Value, any Error>? { stored.withLock { $0 } }

    /// Blocks until the future completes or `deadline` passes; nil when it passed first.
    package func wait(until deadline: ContinuousClock.Instant) -> Result<Value, any Error>? {
        if let result { return result }
        _ = finished.wait(timeout: .now() + ContinuousClock.now.duration(to: deadline).dispatchInterval)
        return result
    }

    /// Blocks until the future completes, giving up once it has made no progress for `limit`
    /// (a stalled Redis), however long it takes while it moves.
    package func waitWhileProgressing(stallLimit limit: Duration) -> Result<Value, any Error>? {
        while true {
            if let result = wait(until: .now + limit) { return result }
            guard progress.advancedSinceLastLook() else { return nil }
        }
    }
}

/// A listener's state machine as far as Redis's answers to its batches go.
package protocol BatchAnswers {
    associatedtype Action
    mutating func applied(batch: Int, now: ContinuousClock.Instant) -> [Action]
    mutating func failed(batch: Int, reason: String) -> [Action]
    /// Redis finished more calls of `batch`: it is moving, so its time limit starts again.
    mutating func progressed(batch: Int, now: ContinuousClock.Instant)
}

extension Dictionary where Key == Int, Value == BlockingOutcome<Void> {
    /// Tells `machine` about every batch Redis has answered since the last look, and forgets
    /// them, and about every other batch that progressed.
    mutating func reportAnswers<Machine: BatchAnswers>(to machine: inout Machine) -> [Machine.Action] {
        for (batch, outcome) in self where outcome.result == nil && outcome.progress.advancedSinceLastLook() {
            machine.progressed(batch: batch, now: .now)
        }
        let answered = compactMap { batch, outcome in outcome.result.map { (batch, $0) } }
        var actions: [Machine.Action] = []
        for (batch, result) in answered {
            self[batch] = nil
            switch result {
            case .success: actions += machine.applied(batch: batch, now: .now)
            case .failure(let error): actions += machine.failed(batch: batch, reason: "\(error)")
            }
        }
        return actions
    }
}
