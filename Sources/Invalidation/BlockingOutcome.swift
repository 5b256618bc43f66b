import Dispatch
import NIOCore
import Synchronization

/// The result of an event-loop future for the invalidation listener, whose dedicated thread
/// blocks on its Redis calls instead of running on an event loop.
package final class BlockingOutcome<Value: Sendable>: Sendable {
    /// When the call was sent: its time limit counts from here.
    package let sentAt = DispatchTime.now()
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

    /// Blocks until the future completes, at most until `limit` after it was sent.
    package func wait(limit: DispatchTimeInterval) throws -> Value {
        if result == nil, finished.wait(timeout: sentAt + limit) != .success {
            throw InvalidationError.timedOut
        }
        guard let result else { throw InvalidationError.timedOut }
        return try result.get()
    }
}
