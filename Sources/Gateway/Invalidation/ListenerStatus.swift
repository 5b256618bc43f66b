/// What `INFO invalidation` says about the listener.
public struct ListenerStatus: Sendable {
    public var connected = false
    /// Invalidation messages received (one per written row, or per 500 keys of a statement).
    public var notifications = 0
    public var reconnects = 0
    /// Replays of missed invalidations from the replication slot, and flushes when replay was impossible.
    public var recoveries = 0
    public var replayedKeys = 0
    public var flushes = 0
    public var lastError: String?

    /// `ok` while listening; `degraded` while invalidations may be missed (they are
    /// recovered after the reconnect).
    public var state: String { connected ? "ok" : "degraded" }
}
