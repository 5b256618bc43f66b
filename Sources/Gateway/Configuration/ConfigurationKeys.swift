import CacheModel

/// The names of the configuration keys, shared by the loader, `--check-config` and docs.
enum ConfigurationKeys {
    /// TTL keys: `cache.ttl_seconds.<key>` sets the TTL of these families.
    static let ttlFamilies: [(key: String, families: [KeyFamily])] = [
        ("user", [.user]),
        ("listing", [.listing]),
        ("marketplace_listings", [.marketplaceListings]),
        ("user_stats", [.userStats]),
        ("user_badges", [.userBadges]),
        ("leaderboard", [.leaderboardWeekly, .leaderboardMonthly]),
    ]

    /// The environment variable that overrides `key` (`server.port` → `QUICKSELL_SERVER_PORT`).
    static func environmentName(_ key: String) -> String {
        "QUICKSELL_" + String(key.uppercased().map { $0 == "." || $0 == "-" ? "_" : $0 })
    }
}
