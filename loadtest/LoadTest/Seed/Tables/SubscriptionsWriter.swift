import Postgres

/// `subscriptions`: every paying user, plus some free users with a lapsed subscription.
enum SubscriptionsWriter: TableWriter {
    static let table = "subscriptions"
    static let columns = [
        "id", "user_id", "stripe_customer_id", "stripe_subscription_id", "plan_type", "status",
        "current_period_start", "current_period_end", "cancel_at_period_end", "created_at", "updated_at",
    ]

    static func write(_ plan: SeedPlan, into copy: inout CopyWriter) throws {
        var rng = SplitMix64(seed: plan.seed, stream: 107)
        var id = 0
        for user in 0..<plan.userCount {
            let tier = Int(plan.userTier[user])
            let lapsed = tier == 0 && rng.percent(10)
            guard tier > 0 || lapsed else { continue }
            let created = plan.userCreatedAt[user] + rng.int64(UTCTime.day...(100 * UTCTime.day))
            let periodStart = lapsed
                ? plan.now - rng.int64(40 * UTCTime.day...(200 * UTCTime.day))
                : plan.now - rng.int64(0...(29 * UTCTime.day))
            id += 1
            copy.field(id)
            copy.field(user + 1)
            copy.field("cus_" + rng.characters(14, from: Alphabet.alphanumeric))
            copy.field("sub_" + rng.characters(24, from: Alphabet.alphanumeric))
            copy.field(UsersWriter.tiers[lapsed ? 1 + rng.int(0...1) : tier])
            copy.field(lapsed ? (rng.percent(50) ? "cancelled" : "expired") : (rng.percent(95) ? "active" : "past_due"))
            copy.date(periodStart)
            copy.date(periodStart + 30 * UTCTime.day)
            copy.field(lapsed || rng.percent(8))
            copy.timestamp(created)
            copy.timestamp(rng.int64(created...max(created, plan.now)))
            try copy.endRow()
        }
    }
}
