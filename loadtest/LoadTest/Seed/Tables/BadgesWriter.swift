import Postgres

/// `badges`: a fixed catalogue of achievements in tiers '1', '2', '3' and 'special'.
enum BadgesWriter: TableWriter {
    static let table = "badges"
    static let columns = [
        "id", "badge_key", "badge_name", "badge_description", "badge_icon_url", "badge_tier",
        "requirement_type", "requirement_value", "created_at",
    ]
    /// key, name, description, tier, requirement type, requirement value.
    static let catalogue: [(String, String, String, String, String?, Int?)] = [
        ("first_listing", "First Listing", "Published your first listing.", "1", "listings_created", 1),
        ("listings_10", "Getting Started", "Created 10 listings.", "1", "listings_created", 10),
        ("listings_50", "Power Lister", "Created 50 listings.", "2", "listings_created", 50),
        ("listings_250", "Listing Machine", "Created 250 listings.", "3", "listings_created", 250),
        ("first_sale", "First Sale", "Sold your first item.", "1", "items_sold", 1),
        ("sales_10", "Seller", "Sold 10 items.", "1", "items_sold", 10),
        ("sales_50", "Top Seller", "Sold 50 items.", "2", "items_sold", 50),
        ("sales_200", "Sales Legend", "Sold 200 items.", "3", "items_sold", 200),
        ("revenue_100", "Hundred Club", "Earned $100 in sales.", "1", "revenue", 100),
        ("revenue_1000", "Thousand Club", "Earned $1,000 in sales.", "2", "revenue", 1_000),
        ("revenue_10000", "Ten Grand", "Earned $10,000 in sales.", "3", "revenue", 10_000),
        ("photos_25", "Shutterbug", "Uploaded 25 photos.", "1", "photos_uploaded", 25),
        ("photos_250", "Photographer", "Uploaded 250 photos.", "2", "photos_uploaded", 250),
        ("streak_7", "On a Roll", "Posted 7 days in a row.", "1", "posting_streak", 7),
        ("streak_30", "Unstoppable", "Posted 30 days in a row.", "2", "posting_streak", 30),
        ("streak_100", "Habit Formed", "Posted 100 days in a row.", "3", "posting_streak", 100),
        ("five_star_10", "Crowd Pleaser", "Received 10 five-star ratings.", "2", "five_star_ratings", 10),
        ("cross_poster", "Cross-Poster", "Connected three marketplaces.", "1", "marketplaces_connected", 3),
        ("all_marketplaces", "Everywhere", "Connected all five marketplaces.", "2", "marketplaces_connected", 5),
        ("fast_shipper", "Fast Shipper", "Shipped 10 orders within a day.", "2", "fast_shipments", 10),
        ("early_adopter", "Early Adopter", "Joined during the beta.", "special", nil, nil),
        ("holiday_2025", "Holiday Hustler", "Sold during the 2025 holiday event.", "special", "event_sales", 1),
        ("weekly_champion", "Weekly Champion", "Topped the weekly leaderboard.", "special", "leaderboard_rank", 1),
        ("monthly_champion", "Monthly Champion", "Topped the monthly leaderboard.", "special", "leaderboard_rank", 1),
        ("ai_assisted", "AI Assisted", "Used AI descriptions on 20 listings.", "1", "ai_descriptions", 20),
        ("eco_warrior", "Eco Warrior", "Gave 100 items a second life.", "3", "items_sold", 100),
    ]

    static func write(_ plan: SeedPlan, into copy: inout CopyWriter) throws {
        let created = plan.now - 700 * UTCTime.day
        for (index, badge) in catalogue.enumerated() {
            copy.field(index + 1)
            copy.field(badge.0)
            copy.field(badge.1)
            copy.field(badge.2)
            copy.field("https://cdn.quicksell.app/badges/" + badge.0 + ".png")
            copy.field(badge.3)
            copy.field(badge.4)
            copy.field(badge.5)
            copy.timestamp(created + Int64(index) * UTCTime.day)
            try copy.endRow()
        }
    }
}
