/// How long each family's values live in Redis, and the other knobs of the cache.
/// Defaults are the source document's TTLs; `user_badges` has none there, so 1 h.
public struct CacheSettings: Sendable {
    public var ttlSeconds: [KeyFamily: Int]
    /// How long an absent row is remembered as absent.
    public var negativeTTLSeconds: Int
    /// Random extra TTL, as a percentage of the TTL (0 = none), so keys filled together
    /// do not all expire together.
    public var ttlJitterPercent: Int
    /// Entries per leaderboard.
    public var leaderboardSize: Int
    /// Largest number of ids in one batched fill query.
    public var maxBatchSize: Int

    public init(
        ttlSeconds: [KeyFamily: Int] = CacheSettings.defaultTTLs,
        negativeTTLSeconds: Int = 60,
        ttlJitterPercent: Int = 0,
        leaderboardSize: Int = 100,
        maxBatchSize: Int = 500
    ) {
        self.ttlSeconds = ttlSeconds
        self.negativeTTLSeconds = negativeTTLSeconds
        self.ttlJitterPercent = ttlJitterPercent
        self.leaderboardSize = leaderboardSize
        self.maxBatchSize = maxBatchSize
    }

    public static let defaultTTLs: [KeyFamily: Int] = [
        .user: 3_600,
        .listing: 1_800,
        .marketplaceListings: 900,
        .userStats: 3_600,
        .userBadges: 3_600,
        .leaderboardWeekly: 21_600,
        .leaderboardMonthly: 21_600,
    ]

    public func ttl(_ family: KeyFamily) -> Int {
        ttlSeconds[family] ?? Self.defaultTTLs[family] ?? 3_600
    }

    /// The TTL in milliseconds to store a value with, jittered and, for leaderboards,
    /// capped at the end of the period.
    package func storeTTLMilliseconds(_ family: KeyFamily, secondsUntilPeriodEnd: Int?, random: Double) -> Int64 {
        var milliseconds = Int64(ttl(family)) * 1000
        if ttlJitterPercent > 0 {
            milliseconds += Int64(Double(milliseconds) * Double(ttlJitterPercent) / 100 * random)
        }
        if let secondsUntilPeriodEnd {
            milliseconds = min(milliseconds, Int64(max(1, secondsUntilPeriodEnd)) * 1000)
        }
        return max(1, milliseconds)
    }
}
