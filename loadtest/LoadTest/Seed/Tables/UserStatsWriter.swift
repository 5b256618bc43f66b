import Postgres

/// `user_stats`: one row per user, consistent with the plan's sales, listings and photos.
enum UserStatsWriter: TableWriter {
    static let table = "user_stats"
    static let columns = [
        "id", "user_id", "total_points", "current_level", "total_items_sold", "total_revenue", "average_sale_price",
        "positive_ratings", "negative_ratings", "average_rating", "listings_created", "photos_uploaded",
        "current_posting_streak", "best_posting_streak", "last_activity_date", "updated_at",
    ]

    static func write(_ plan: SeedPlan, into copy: inout CopyWriter) throws {
        var rng = SplitMix64(seed: plan.seed, stream: 102)
        for user in 0..<plan.userCount {
            var positive = 0
            var negative = 0
            for sale in Int(plan.saleStart[user])..<Int(plan.saleStart[user + 1]) where plan.saleStatus[sale] == .completed {
                let rating = plan.saleSellerRating[sale]
                if rating >= 4 { positive += 1 } else if rating <= 2 { negative += 1 }
            }
            var photos = 0
            let listings = Int(plan.listingStart[user])..<Int(plan.listingStart[user + 1])
            for listing in listings { photos += Int(plan.photoCount[listing]) }
            let sold = Int(plan.completedSales[user])
            let revenue = Int(plan.completedRevenue[user])
            copy.field(user + 1)
            copy.field(user + 1)
            copy.field(Int(plan.points[user]))
            copy.field(plan.level(user: user))
            copy.field(sold)
            copy.hundredths(revenue)
            copy.hundredths(sold > 0 ? (revenue + sold / 2) / sold : nil)
            copy.field(positive)
            copy.field(negative)
            copy.hundredths(plan.averageRating(user: user))
            copy.field(listings.count)
            copy.field(photos)
            let best = rng.int(0...30)
            copy.field(rng.int(0...best))
            copy.field(best)
            let lastActivity = plan.now - rng.int64(0...(30 * UTCTime.day))
            copy.date(lastActivity)
            copy.timestamp(lastActivity)
            try copy.endRow()
        }
    }
}
