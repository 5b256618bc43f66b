import Postgres

/// `user_badges`: 0-6 distinct badges per user, unlocked after the user joined.
enum UserBadgesWriter: TableWriter {
    static let table = "user_badges"
    static let columns = ["id", "user_id", "badge_id", "unlocked_at"]

    static func write(_ plan: SeedPlan, into copy: inout CopyWriter) throws {
        var rng = SplitMix64(seed: plan.seed, stream: 104)
        var deck = Array(1...BadgesWriter.catalogue.count)
        var id = 0
        for user in 0..<plan.userCount {
            let count = rng.int(0...6)
            let created = plan.userCreatedAt[user]
            // A partial Fisher-Yates shuffle: the first `count` cards are distinct badges.
            for slot in 0..<count {
                deck.swapAt(slot, rng.int(slot...(deck.count - 1)))
                id += 1
                copy.field(id)
                copy.field(user + 1)
                copy.field(deck[slot])
                copy.timestamp(rng.int64(created...plan.now))
                try copy.endRow()
            }
        }
    }
}
