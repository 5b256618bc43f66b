import Dispatch
import NIOCore
import Synchronization

/// The invalidation batches sent to Redis and not yet confirmed, oldest first, with the
/// stream position each one lets the listener confirm.
///
/// The listener goes on reading the stream while Redis applies earlier batches: waiting for
/// each batch's round trip (listener thread, event loop, Redis, event loop, listener thread)
/// capped the invalidation rate on a machine whose cores are busy with writers, since each of
/// those wake-ups then waits for a core (measured: 9 of 10 s spent waiting at 15,000
/// writes/s, and a lag growing to hundreds of ms). A position is still confirmed only once
/// every batch before it has been applied, in stream order, so a failure or a restart
/// replays everything that was not.
struct PendingApplies {
    /// One batch in flight; `outcome` is nil for a position that needs no apply of its own.
    private struct Entry {
        let outcome: Outcome?
        let position: UInt64?
        let sentAt: DispatchTime
    }

    /// How long one apply may take before the listener gives up on the stream (Redis calls
    /// time out sooner on their own; this bounds the wait whatever happens).
    private let limit: DispatchTimeInterval

    init(limit: DispatchTimeInterval = .seconds(15)) {
        self.limit = limit
    }

    /// The result of one apply, set on the event loop, read by the listener.
    private final class Outcome: Sendable {
        let finished = DispatchSemaphore(value: 0)
        let result = Mutex<Result<Void, any Error>?>(nil)
    }

    private var entries: [Entry] = []
    /// The latest position whose batches, and all before them, have been applied.
    private(set) var confirmedPosition: UInt64 = 0

    var isEmpty: Bool { entries.isEmpty }
    var count: Int { entries.count }

    /// Adds an apply in flight; `position` is confirmed once it and all before it are done.
    mutating func add(_ apply: EventLoopFuture<Void>, confirming position: UInt64?) {
        let outcome = Outcome()
        apply.whenComplete { result in
            outcome.result.withLock { $0 = result }
            outcome.finished.signal()
        }
        entries.append(Entry(outcome: outcome, position: position, sentAt: .now()))
    }

    /// Adds a position with nothing to apply (a keepalive between transactions): it is
    /// confirmed once the batches before it are.
    mutating func add(confirming position: UInt64) {
        entries.append(Entry(outcome: nil, position: position, sentAt: .now()))
    }

    /// Removes the finished entries at the front, advancing `confirmedPosition`; throws the
    /// first failure among them, or when the oldest has been on its way longer than the limit.
    mutating func collectFinished() throws {
        while let first = entries.first {
            if let outcome = first.outcome {
                guard let result = outcome.result.withLock({ $0 }) else {
                    if DispatchTime.now() > first.sentAt + limit { throw InvalidationError.timedOut }
                    break
                }
                try result.get()
            }
            entries.removeFirst()
            if let position = first.position { confirmedPosition = max(confirmedPosition, position) }
        }
    }

    /// Blocks until the oldest entry has finished (within the limit), then collects the finished ones.
    mutating func waitForOldest() throws {
        if let first = entries.first, let outcome = first.outcome, outcome.result.withLock({ $0 }) == nil {
            guard outcome.finished.wait(timeout: first.sentAt + limit) == .success else {
                throw InvalidationError.timedOut
            }
        }
        try collectFinished()
    }
}
