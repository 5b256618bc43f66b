import Dispatch
import NIOCore
import Synchronization

/// The result of an event-loop future for the invalidation listener, whose dedicated thread
/// blocks on its Redis calls instead of running on an event loop.
package final class BlockingOutcome<Value: Sendable>: Sendable {
    private let finished = DispatchSemaphore(value: 0)
    private let stored = Mutex<Result<Value, any Error>?>(nil)

    package init(_ future: EventLoopFuture<Value>) {
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
}

/// A listener's state machine as far as Redis's answers to its batches go.
package protocol BatchAnswers {
    associatedtype Action
    mutating func applied(batch: Int, now: ContinuousClock.Instant) -> [Action]
    mutating func failed(batch: Int, reason: String) -> [Action]
}

extension Dictionary where Key == Int, Value == BlockingOutcome<Void> {
    /// Tells `machine` about every batch Redis has answered since the last look, and forgets them.
    mutating func reportAnswers<Machine: BatchAnswers>(to machine: inout Machine) -> [Machine.Action] {
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
