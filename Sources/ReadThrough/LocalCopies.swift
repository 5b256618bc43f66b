import CacheModel

/// What the gateway holds of cached values beside Redis, which every invalidation must reach
/// before Redis: the fills under way and the near cache; and, once Redis has answered, the
/// clients that keep copies of their own (`observer`, client tracking).
///
/// Invalidations come in pairs: `invalidate…` before the keys are unlinked in Redis (fills are
/// detached, copies in memory dropped) and `invalidated…` once Redis has answered. Between the
/// two, the near cache keeps no value read from Redis for those keys: the read may have reached
/// Redis before the unlink did.
package final class LocalCopies: Sendable {
    package let fills: FillCoordinator
    package let near: NearCache?
    /// Client tracking, told in `invalidated…`: a client that reads again on its push must
    /// find the key gone from Redis, or it would keep the old value with no push to come.
    package let observer: (any InvalidationObserver)?

    package init(fills: FillCoordinator, near: NearCache?, observer: (any InvalidationObserver)? = nil) {
        self.fills = fills
        self.near = near
        self.observer = observer
    }

    /// The keys were written in PostgreSQL, or are being flushed.
    package func invalidate(_ keys: [CacheKey]) {
        near?.removalStarted(keys)
        fills.invalidate(keys)
    }

    package func invalidated(_ keys: [CacheKey]) {
        near?.removalFinished(keys)
        observer?.keysInvalidated(keys)
    }

    /// Every key of these families may have been written by these transactions.
    package func invalidate(families: Set<KeyFamily>, writtenBy transactions: [UInt64]) {
        near?.removalStarted(families: families)
        fills.invalidate(families: families, writtenBy: transactions)
    }

    /// Every key of these families is being flushed (an operator's flush).
    package func invalidate(families: Set<KeyFamily>) {
        near?.removalStarted(families: families)
        for family in families { fills.invalidate(family: family) }
    }

    package func invalidated(families: Set<KeyFamily>) {
        near?.removalFinished(families: families)
        observer?.familiesInvalidated(families)
    }

    /// Anything may have changed (a gap in the stream, a full flush, a restarted Redis).
    package func invalidateAll() {
        near?.removalStartedForAll()
        fills.invalidateAll()
    }

    package func invalidatedAll() {
        near?.removalFinishedForAll()
        observer?.everythingInvalidated()
    }
}
