import Dispatch
import NIOCore

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
package struct PendingApplies {
    /// One batch in flight; `outcome` is nil for a position that needs no apply of its own.
    private struct Entry {
        let outcome: BlockingOutcome<Void>?
        let position: UInt64?
    }

    /// How long one apply may take before the listener gives up on the stream (Redis calls
    /// time out sooner on their own; this bounds the wait whatever happens).
    private let limit: DispatchTimeInterval

    package init(limit: DispatchTimeInterval = .seconds(15)) {
        self.limit = limit
    }

    private var entries: [Entry] = []
    /// The latest position whose batches, and all before them, have been applied.
    private(set) var appliedPosition: UInt64 = 0

    package var isEmpty: Bool { entries.isEmpty }
    package var count: Int { entries.count }

    /// Adds an apply in flight; `position` counts as applied once it and all before it are done.
    package mutating func add(_ apply: EventLoopFuture<Void>, confirming position: UInt64?) {
        entries.append(Entry(outcome: BlockingOutcome(apply), position: position))
    }

    /// Adds a position with nothing to apply (a keepalive between transactions): it counts
    /// as applied once the batches before it are.
    package mutating func add(confirming position: UInt64) {
        entries.append(Entry(outcome: nil, position: position))
    }

    /// Removes the finished entries at the front, advancing `appliedPosition`; throws the
    /// first failure among them, or when the oldest has been on its way longer than the limit.
    package mutating func collectFinished() throws {
        while let first = entries.first {
            if let outcome = first.outcome {
                guard let result = outcome.result else {
                    if DispatchTime.now() > outcome.sentAt + limit { throw InvalidationError.timedOut }
                    break
                }
                try result.get()
            }
            entries.removeFirst()
            if let position = first.position { appliedPosition = max(appliedPosition, position) }
        }
    }

    /// Blocks until the oldest entry has finished (within the limit), then collects the finished ones.
    package mutating func waitForOldest() throws {
        try entries.first?.outcome?.wait(limit: limit)
        try collectFinished()
    }
}
