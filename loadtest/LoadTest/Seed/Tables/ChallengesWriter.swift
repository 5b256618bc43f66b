import Postgres

/// `challenges`: ten challenges timed around the reference time (this week's, this
/// month's, seasonal, limited, and a few finished ones).
enum ChallengesWriter: TableWriter {
    static let table = "challenges"
    static let columns = [
        "id", "challenge_key", "challenge_name", "description", "challenge_type", "reward_points",
        "reward_badge_id", "starts_at", "ends_at", "is_active", "created_at",
    ]
    enum Timing { case thisWeek, lastWeek, thisMonth, lastMonth, season, limited }
    /// key, name, description, type, points, reward badge id, timing, goal.
    static let catalogue: [(String, String, String, String, Int, Int?, Timing, Int)] = [
        ("weekly_list_10", "List 10 Items", "Publish 10 listings this week.", "weekly", 50, nil, .thisWeek, 10),
        ("weekly_sell_3", "Sell 3 Items", "Complete 3 sales this week.", "weekly", 100, nil, .thisWeek, 3),
        ("weekly_photos_30", "Picture Perfect", "Upload 30 photos this week.", "weekly", 40, 12, .thisWeek, 30),
        ("last_week_list_5", "Warm-up Week", "Publish 5 listings in a week.", "weekly", 30, nil, .lastWeek, 5),
        ("monthly_sell_20", "Monthly Mover", "Complete 20 sales this month.", "monthly", 300, 6, .thisMonth, 20),
        ("monthly_revenue_500", "Big Month", "Earn $500 this month.", "monthly", 250, 9, .thisMonth, 500),
        ("last_month_list_40", "Listing Marathon", "Publish 40 listings in a month.", "monthly", 200, nil, .lastMonth, 40),
        ("season_crosspost", "Cross-Post Season", "Post 25 listings to two or more marketplaces.", "seasonal", 400, 18, .season, 25),
        ("flash_weekend", "Flash Weekend", "Sell 2 items during the flash event.", "limited", 150, nil, .limited, 2),
        ("spring_clean", "Spring Clean", "Sell 15 home items this season.", "seasonal", 350, 26, .season, 15),
    ]

    /// When challenge `index` runs.
    static func window(_ plan: SeedPlan, _ index: Int) -> (start: Int64, end: Int64) {
        switch catalogue[index].6 {
        case .thisWeek: return (plan.weekStart, plan.weekStart + 7 * UTCTime.day)
        case .lastWeek: return (plan.weekStart - 7 * UTCTime.day, plan.weekStart)
        case .thisMonth:
            return (plan.monthStart, UTCTime.startOfMonth(plan.monthStart + 32 * UTCTime.day))
        case .lastMonth: return (UTCTime.startOfMonth(plan.monthStart - UTCTime.day), plan.monthStart)
        case .season: return (plan.monthStart - 30 * UTCTime.day, plan.monthStart + 60 * UTCTime.day)
        case .limited: return (plan.now - 2 * UTCTime.day, plan.now + 2 * UTCTime.day)
        }
    }

    static func write(_ plan: SeedPlan, into copy: inout CopyWriter) throws {
        for (index, challenge) in catalogue.enumerated() {
            let (start, end) = window(plan, index)
            copy.field(index + 1)
            copy.field(challenge.0)
            copy.field(challenge.1)
            copy.field(challenge.2)
            copy.field(challenge.3)
            copy.field(challenge.4)
            copy.field(challenge.5)
            copy.timestamp(start)
            copy.timestamp(end)
            copy.field(start <= plan.now && plan.now < end)
            copy.timestamp(start - 3 * UTCTime.day)
            try copy.endRow()
        }
    }
}
