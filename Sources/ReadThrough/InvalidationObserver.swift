import CacheModel

/// Told of every invalidation once Redis has answered its removal (`LocalCopies.invalidated…`),
/// before the write is confirmed to PostgreSQL: the clients that keep
/// copies of their own (client-side caching) are told to drop them. Implemented by the gateway,
/// which owns the client connections; ReadThrough knows nothing of them.
package protocol InvalidationObserver: Sendable {
    func keysInvalidated(_ keys: [CacheKey])
    func familiesInvalidated(_ families: Set<KeyFamily>)
    func everythingInvalidated()
}
