/// The seven kinds of cached object, each made from PostgreSQL by one query. Encoded as its
/// key prefix (the load tool's reports name families so).
public enum KeyFamily: String, CaseIterable, Sendable, Hashable, Codable {
    case user
    case listing
    case marketplaceListings = "marketplace_listings"
    case userStats = "user_stats"
    case userBadges = "user_badges"
    case leaderboardWeekly = "leaderboard:weekly"
    case leaderboardMonthly = "leaderboard:monthly"

    /// Families keyed by a row id (`user:{id}`); the leaderboards are single keys.
    public var hasID: Bool {
        switch self {
        case .leaderboardWeekly, .leaderboardMonthly: return false
        default: return true
        }
    }

    /// The family's place in `allCases`, for arrays indexed by family (on hot paths, where
    /// searching `allCases` would cost).
    public var ordinal: Int {
        switch self {
        case .user: 0
        case .listing: 1
        case .marketplaceListings: 2
        case .userStats: 3
        case .userBadges: 4
        case .leaderboardWeekly: 5
        case .leaderboardMonthly: 6
        }
    }

    /// The name operators and `INFO` use: the key prefix without the colon.
    public var name: String { rawValue }

    /// The name in `INFO` lines, where a colon would end the field name.
    public var infoName: String { String(rawValue.map { $0 == ":" ? "_" : $0 }) }

    /// How keys of this family are written, for error messages and docs.
    public var keyPattern: String { hasID ? "\(rawValue):{id}" : rawValue }

    /// All key patterns, for "unknown family" errors.
    public static let patternList = allCases.map(\.keyPattern).joined(separator: ", ")
}
