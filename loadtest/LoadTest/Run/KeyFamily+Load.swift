import CacheModel

/// How the load generator draws keys of the gateway's families.
extension KeyFamily {
    /// Which id set the family's keys are drawn from; `nil` for the single-key leaderboards.
    var idSource: IDSource? {
        switch self {
        case .user, .userStats, .userBadges: return .users
        case .listing, .marketplaceListings: return .listings
        case .leaderboardWeekly, .leaderboardMonthly: return nil
        }
    }

    /// The key of row `id` (ignored by the leaderboards).
    func key(_ id: Int) -> String {
        CacheKey(family: self, id: Int64(id)).name
    }

    /// Accepts the key prefix (`user_stats`, `leaderboard:weekly`) or the INFO spelling.
    init?(loadName name: String) {
        let lowered = name.lowercased()
        guard let family = KeyFamily.allCases.first(where: { $0.rawValue == lowered || $0.infoName == lowered }) else {
            return nil
        }
        self = family
    }

    static let nameList = allCases.map(\.rawValue).joined(separator: ", ")
}

/// The two id sets the row families draw from.
enum IDSource: Sendable {
    case users, listings
}
