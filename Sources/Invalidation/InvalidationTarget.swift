import CacheModel

/// What invalidation needs from whatever holds cached values beside Redis: the fills under
/// way (so that a value read before a write is never stored after it) and copies in memory.
///
/// Each invalidation comes in two calls. The first (`invalidate…`) is made before the keys are
/// removed from Redis and before the write's position is confirmed to PostgreSQL; the second
/// (`invalidated…`) once Redis has answered the removal, whether it succeeded or not. Between
/// them, copies in memory take no value read from Redis for the keys concerned.
package protocol InvalidationTarget: Sendable {
    /// The keys were written in PostgreSQL.
    func invalidate(_ keys: [CacheKey])
    func invalidated(_ keys: [CacheKey])
    /// Every key of these families may have been written by these transactions (`xid8`; a
    /// flush instead of their keys): detach the families' fills, and store no value read in a
    /// snapshot that does not see the transactions (logical decoding may stream a commit a
    /// moment before it is visible, and a flush records no writer beside each key).
    func invalidate(families: Set<KeyFamily>, writtenBy transactions: [UInt64])
    func invalidated(families: Set<KeyFamily>)
    /// Anything may have changed (a gap in the stream, a full flush, a restarted Redis).
    func invalidateAll()
    func invalidatedAll()
}
