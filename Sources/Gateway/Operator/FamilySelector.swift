import CacheModel

/// Family names as operators type them (`user`, `leaderboard:weekly`, or `leaderboard`
/// for both leaderboards), with the error that lists the valid ones.
enum FamilySelector {
    /// Every name accepted, in the order the error message lists them.
    static let validNames: [String] = KeyFamily.allCases.map(\.name) + ["leaderboard"]

    static func families(_ name: String) -> Result<[KeyFamily], RESPValueError> {
        let lowered = name.lowercased()
        if lowered == "leaderboard" || lowered == "leaderboards" {
            return .success([.leaderboardWeekly, .leaderboardMonthly])
        }
        guard let family = KeyFamily(rawValue: lowered) else {
            return .failure(RESPValueError(.error(unknownMessage(name))))
        }
        return .success([family])
    }

    /// `ERR unknown family 'foo': valid families are user, listing, …`
    static func unknownMessage(_ name: String) -> String {
        let shown = String(name.prefix(64).map { $0.isASCII && !$0.isNewline ? $0 : "?" })
        return "ERR unknown family '\(shown)': valid families are \(validNames.joined(separator: ", "))"
    }
}
