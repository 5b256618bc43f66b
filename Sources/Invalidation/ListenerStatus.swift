/// What `INFO invalidation` says about the listener.
public struct ListenerStatus: Sendable {
    public var connected = false
    /// The stream has passed the server's WAL position of the (re)connection: every write
    /// committed before it is invalidated. Not ready (`/readyz`) until then.
    public var caughtUp = false
    /// Invalidation messages read from the replication stream (one per written row, or per
    /// 500 keys of a statement).
    public var messagesReceived = 0
    public var reconnects = 0
    /// Replays of missed invalidations from the replication slot, and flushes when replay was impossible.
    public var recoveries = 0
    public var replayedKeys = 0
    public var flushes = 0
    /// Writes too big to invalidate key by key whose families were flushed instead.
    public var familyFlushes = 0
    /// Transactions streamed again after the listener had received them (wal: a replay after a
    /// failure; notify: always 0, a failure brings a flush of every family instead).
    public var transactionReplays = 0
    public var lastError: String?
    /// The last WAL position confirmed to the replication slot (everything committed before
    /// it is invalidated); 0 before the first confirmation.
    public var confirmedPosition: UInt64 = 0

    /// `confirmedPosition` the way PostgreSQL prints positions (`16/B374D848`).
    public var confirmedPositionText: String {
        String(confirmedPosition >> 32, radix: 16, uppercase: true) + "/"
            + String(confirmedPosition & 0xFFFF_FFFF, radix: 16, uppercase: true)
    }

    /// `ok` while listening; `degraded` while invalidations may be missed (they are
    /// recovered after the reconnect).
    public var state: String { connected ? "ok" : "degraded" }

    public init(lastError: String? = nil) {
        self.lastError = lastError
    }
}
