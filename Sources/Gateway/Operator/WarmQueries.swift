import CacheModel

/// The ranking queries behind `QUICKSELL WARM`: which keys of a family are worth filling
/// ahead of traffic (cold-start relief). `$1` is how many.
enum WarmQueries {
    /// The most-viewed listings (for `listing:` and `marketplace_listings:`).
    static let topListings = """
        SELECT id FROM listings WHERE deleted_at IS NULL
        ORDER BY view_count DESC NULLS LAST, id LIMIT $1::integer
        """

    /// The top users by points, then revenue (for `user:`, `user_stats:`, `user_badges:`).
    static let topUsers = """
        SELECT id FROM users WHERE deleted_at IS NULL AND account_status <> 'deleted'
        ORDER BY points DESC NULLS LAST, total_revenue DESC NULLS LAST, id LIMIT $1::integer
        """

    /// The statement name and SQL ranking `family`'s ids; nil for the leaderboards (single keys).
    static func ranking(_ family: KeyFamily) -> (name: String, sql: String)? {
        switch family {
        case .listing, .marketplaceListings: return ("qs_warm_listings", topListings)
        case .user, .userStats, .userBadges: return ("qs_warm_users", topUsers)
        case .leaderboardWeekly, .leaderboardMonthly: return nil
        }
    }
}
