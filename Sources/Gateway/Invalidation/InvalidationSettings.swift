/// Knobs of invalidation: how often leaderboards may be refreshed, how long the outbox
/// keeps rows for replay, whether the gateway listens at all.
public struct InvalidationSettings: Sendable {
    /// Listen for invalidations (off only for protocol tests without PostgreSQL triggers).
    public var enabled: Bool
    /// Leaderboard invalidations are coalesced to at most one per this many seconds
    /// (every sale touches them); 0 applies them at once.
    public var leaderboardIntervalSeconds: Int
    /// Outbox rows older than this are deleted; a gateway away longer flushes instead of replaying.
    public var logRetentionSeconds: Int

    public init(enabled: Bool = true, leaderboardIntervalSeconds: Int = 60, logRetentionSeconds: Int = 3_600) {
        self.enabled = enabled
        self.leaderboardIntervalSeconds = leaderboardIntervalSeconds
        self.logRetentionSeconds = logRetentionSeconds
    }
}
