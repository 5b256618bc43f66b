import Postgres

/// `notifications`: 0-8 per user about their sales, listings, badges and challenges.
enum NotificationsWriter: TableWriter {
    static let table = "notifications"
    static let columns = [
        "id", "user_id", "notification_type", "title", "message", "icon_url", "related_listing_id",
        "related_sale_id", "is_read", "read_at", "created_at",
    ]

    static func write(_ plan: SeedPlan, into copy: inout CopyWriter) throws {
        var rng = SplitMix64(seed: plan.seed, stream: 114)
        var id = 0
        for user in 0..<plan.userCount {
            let listings = Int(plan.listingStart[user])..<Int(plan.listingStart[user + 1])
            let sales = Int(plan.saleStart[user])..<Int(plan.saleStart[user + 1])
            for _ in 0..<rng.int(0...8) {
                id += 1
                var created = plan.now - rng.int64(0...(90 * UTCTime.day))
                var listing: Int?
                var sale: Int?
                let type: String, title: String, message: String
                switch rng.int(0...4) {
                case 0 where !sales.isEmpty:
                    let chosen = rng.int(sales.lowerBound...(sales.upperBound - 1))
                    sale = chosen
                    listing = Int(plan.saleListing[chosen])
                    created = max(created, plan.saleDate[chosen])
                    type = "sale"
                    title = "You made a sale!"
                    message = "Your item sold for $" + Decimal2.text(Int(plan.salePrice[chosen])) + "."
                case 1 where !listings.isEmpty:
                    let chosen = rng.int(listings.lowerBound...(listings.upperBound - 1))
                    listing = chosen
                    created = max(created, plan.listingCreatedAt[chosen])
                    type = "listing_views"
                    title = "Your listing is getting attention"
                    message = "Your listing passed \(rng.pick([50, 100, 250, 500])) views."
                case 2 where !listings.isEmpty:
                    let chosen = rng.int(listings.lowerBound...(listings.upperBound - 1))
                    listing = chosen
                    created = max(created, plan.listingCreatedAt[chosen])
                    type = "price_suggestion"
                    title = "Price tip"
                    message = "Similar items sell faster around $" + Decimal2.text(Int(plan.listingPrice[chosen]) * 9 / 10) + "."
                case 3:
                    let badge = BadgesWriter.catalogue[rng.int(0...(BadgesWriter.catalogue.count - 1))]
                    type = "badge_unlocked"
                    title = "Badge unlocked: " + badge.1
                    message = badge.2
                default:
                    let challenge = ChallengesWriter.catalogue[rng.int(0...(ChallengesWriter.catalogue.count - 1))]
                    type = "challenge_progress"
                    title = challenge.1
                    message = "You are \(rng.int(10...90))% of the way there: " + challenge.2
                }
                let read = rng.percent(60)
                copy.field(id)
                copy.field(user + 1)
                copy.field(type)
                copy.field(title)
                copy.field(message)
                copy.field("https://cdn.quicksell.app/icons/" + type + ".png")
                copy.field(listing.map { $0 + 1 })
                copy.field(sale.map { $0 + 1 })
                copy.field(read)
                copy.timestamp(read ? rng.int64(created...plan.now) : nil)
                copy.timestamp(created)
                try copy.endRow()
            }
        }
    }
}
