/// The seven key families as the load generator sees them. The gateway has its own
/// `KeyFamily`; the load tool keeps a copy so that it can drive any Redis-protocol
/// endpoint without linking the gateway.
public enum LoadFamily: String, CaseIterable, Sendable, Codable, Hashable {
    case user
    case listing
    case marketplaceListings = "marketplace_listings"
    case userStats = "user_stats"
    case userBadges = "user_badges"
    case leaderboardWeekly = "leaderboard:weekly"
    case leaderboardMonthly = "leaderboard:monthly"

    /// The name in the gateway's `INFO families` lines (`family_leaderboard_weekly`).
    public var infoName: String { String(rawValue.map { $0 == ":" ? "_" : $0 }) }

    /// Which id set the family's keys are drawn from; `nil` for the single-key leaderboards.
    var idSource: IDSource? {
        switch self {
        case .user, .userStats, .userBadges: return .users
        case .listing, .marketplaceListings: return .listings
        case .leaderboardWeekly, .leaderboardMonthly: return nil
        }
    }

    /// Row families are verified against PostgreSQL; leaderboards are coalesced by design.
    public var isRowFamily: Bool { idSource != nil }

    /// The key of row `id` (ignored by the leaderboards).
    func key(_ id: Int) -> String {
        idSource == nil ? rawValue : "\(rawValue):\(id)"
    }

    /// Accepts the key prefix (`user_stats`, `leaderboard:weekly`) or the INFO spelling.
    public init?(name: String) {
        let lowered = name.lowercased()
        guard let family = LoadFamily.allCases.first(where: { $0.rawValue == lowered || $0.infoName == lowered }) else {
            return nil
        }
        self = family
    }

    public static let nameList = allCases.map(\.rawValue).joined(separator: ", ")
}

/// The two id sets the row families draw from.
enum IDSource: Sendable {
    case users, listings
}
