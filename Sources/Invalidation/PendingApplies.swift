/// The invalidation batches sent to Redis and not yet collected, oldest first, with the
/// stream position each one lets the listener confirm. Pure: batches are numbers, their
/// completion an input.
///
/// The listener goes on reading the stream while Redis applies earlier batches: waiting for
/// each batch's round trip (listener thread, event loop, Redis, event loop, listener thread)
/// capped the invalidation rate on a machine whose cores are busy with writers, since each of
/// those wake-ups then waits for a core. A position is still confirmed only once every batch
/// before it has been applied, in stream order, so a failure or a restart replays everything
/// that was not.
package struct PendingApplies {
    package typealias Instant = ContinuousClock.Instant

    /// One batch on its way (`batch` nil: a position that needs no apply of its own).
    private struct Entry {
        let batch: Int?
        let position: UInt64?
        /// Keys the batch invalidates (0 for a position alone).
        let keys: Int
        /// When it was sent, or last progressed (Redis finished more of its calls).
        var movedAt: Instant
        var applied: Bool
    }

    private var entries: [Entry] = []
    /// The latest position whose batches, and all before them, have been applied.
    package private(set) var appliedPosition: UInt64 = 0

    package init() {}

    package var isEmpty: Bool { entries.isEmpty }
    /// Batches sent and not yet collected (applied ones behind an unapplied one included).
    package private(set) var batchCount = 0
    /// Keys of the batches Redis has not applied yet.
    package private(set) var keysInFlight = 0

    /// The oldest batch not yet applied, and when it was sent or last progressed: every later
    /// position waits for it.
    package var oldest: (batch: Int, movedAt: Instant)? {
        guard let first = entries.first, let batch = first.batch else { return nil }
        return (batch, first.movedAt)
    }

    /// Adds a batch on its way; `position` counts as applied once it and all before it are.
    package mutating func add(batch: Int, keys: Int = 0, sentAt: Instant, confirming position: UInt64?) {
        entries.append(Entry(batch: batch, position: position, keys: keys, movedAt: sentAt, applied: false))
        batchCount += 1
        keysInFlight += keys
    }

    /// Adds a position with nothing to apply (a keepalive between transactions): it counts
    /// as applied once the batches before it are.
    package mutating func add(confirming position: UInt64, at now: Instant) {
        entries.append(Entry(batch: nil, position: position, keys: 0, movedAt: now, applied: true))
        collect()
    }

    /// Records that Redis applied `batch`, advancing `appliedPosition` past every applied
    /// entry at the front. False when `batch` is not on its way (already collected, or of
    /// an earlier stream).
    @discardableResult
    package mutating func markApplied(batch: Int) -> Bool {
        guard let index = entries.firstIndex(where: { $0.batch == batch }), !entries[index].applied else { return false }
        entries[index].applied = true
        keysInFlight -= entries[index].keys
        collect()
        return true
    }

    /// Redis finished more of `batch`'s calls: its time limit counts from `now`.
    package mutating func progressed(batch: Int, at now: Instant) {
        guard let index = entries.firstIndex(where: { $0.batch == batch }), !entries[index].applied else { return }
        entries[index].movedAt = now
    }

    /// Whether `batch` is on its way and not yet applied.
    package func isWaiting(for batch: Int) -> Bool {
        entries.contains { $0.batch == batch && !$0.applied }
    }

    private mutating func collect() {
        var collected = 0
        for entry in entries {
            guard entry.applied else { break }
            collected += 1
            if entry.batch != nil { batchCount -= 1 }
            if let position = entry.position { appliedPosition = max(appliedPosition, position) }
        }
        entries.removeFirst(collected)
    }
}
