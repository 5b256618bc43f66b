import CacheModel

/// Knobs of invalidation: how often leaderboards may be refreshed, which replication slot
/// the gateway streams from, whether the gateway listens at all.
public struct InvalidationSettings: Sendable {
    /// Listen for invalidations (off only for protocol tests without PostgreSQL triggers).
    public var enabled: Bool
    /// Leaderboard invalidations are coalesced to at most one per this many seconds
    /// (every sale touches them); 0 applies them at once.
    public var leaderboardIntervalSeconds: Int
    /// The logical replication slot of this gateway (each gateway needs its own).
    public var replicationSlot: String

    public init(enabled: Bool = true, leaderboardIntervalSeconds: Int = 60, replicationSlot: String? = nil) {
        self.enabled = enabled
        self.leaderboardIntervalSeconds = leaderboardIntervalSeconds
        self.replicationSlot = replicationSlot
            ?? ReplicationSlot.defaultName(host: ReplicationSlot.hostName, port: GatewayDefaults.port)
    }
}
