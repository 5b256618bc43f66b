import CacheModel

/// Knobs of invalidation: which source the gateway listens to, how often leaderboards may be
/// refreshed, which replication slot the wal source streams from, whether it listens at all.
public struct InvalidationSettings: Sendable {
    /// Listen for invalidations (off only for protocol tests without PostgreSQL triggers).
    public var enabled: Bool
    /// `auto` (the default) picks `wal` where the server allows it, else `notify`.
    public var source: InvalidationSource
    /// Leaderboard invalidations are coalesced to at most one per this many seconds
    /// (every sale touches them); 0 applies them at once.
    public var leaderboardIntervalSeconds: Int
    /// The logical replication slot of this gateway (each gateway needs its own).
    public var replicationSlot: String
    /// Warn once the slot holds back more WAL than this (a disconnected or lagging listener
    /// fills the database's disk); 0 never warns.
    public var slotRetainedWarningBytes: Int64
    /// The wal source flushes the families of a transaction that wrote more keys than this,
    /// instead of unlinking them one by one: the time to invalidate a write then stays bounded
    /// whatever its size. (The notify source does the same past one notification's 8,000 bytes.)
    public var flushFamiliesAboveKeys: Int
    /// Either listener gives up a connection on which PostgreSQL sent nothing for this long,
    /// not even an answer to the ping sent half way, and reconnects: a peer gone silent (a
    /// partition, a dead host) is otherwise noticed only when TCP gives up (`SilenceWatch`).
    public var listenerTimeoutSeconds: Int

    /// 1 GiB: far above what a streaming listener holds back, far below a full disk.
    public static let defaultSlotRetainedWarningBytes: Int64 = 1 << 30
    /// 50,000 keys are unlinked within a few seconds even on a debug build with every core
    /// busy (about 16,000 keys/s measured there); past that, a family flush costs less time.
    public static let defaultFlushFamiliesAboveKeys = 50_000
    /// A live walsender answers a ping within a round trip, even on a busy machine; 10 s is
    /// PostgreSQL's `wal_receiver_timeout` (60 s) scaled to a cache that must notice soon.
    public static let defaultListenerTimeoutSeconds = 10

    public init(enabled: Bool = true, source: InvalidationSource = .auto, leaderboardIntervalSeconds: Int = 60,
                replicationSlot: String? = nil, slotRetainedWarningBytes: Int64 = defaultSlotRetainedWarningBytes,
                flushFamiliesAboveKeys: Int = defaultFlushFamiliesAboveKeys,
                listenerTimeoutSeconds: Int = defaultListenerTimeoutSeconds) {
        self.flushFamiliesAboveKeys = flushFamiliesAboveKeys
        self.listenerTimeoutSeconds = listenerTimeoutSeconds
        self.enabled = enabled
        self.source = source
        self.leaderboardIntervalSeconds = leaderboardIntervalSeconds
        self.slotRetainedWarningBytes = slotRetainedWarningBytes
        self.replicationSlot = replicationSlot
            ?? ReplicationSlot.defaultName(host: ReplicationSlot.hostName, port: GatewayDefaults.port)
    }
}
