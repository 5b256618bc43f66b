import CacheModel

/// What invalidation needs from whatever holds cached values beside Redis: the fills under
/// way (so that a value read before a write is never stored after it) and, later, copies in
/// memory. Called before the keys are removed from Redis and before the write's position is
/// confirmed to PostgreSQL.
package protocol InvalidationTarget: Sendable {
    /// The keys were written in PostgreSQL.
    func invalidate(_ keys: [CacheKey])
    /// Anything may have changed (a gap in the stream, a full flush, a restarted Redis).
    func invalidateAll()
}
