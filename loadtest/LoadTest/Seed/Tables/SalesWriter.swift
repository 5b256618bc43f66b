import Postgres

/// `sales`: one per sold listing, as planned (seller = owner, buyer = another user),
/// with shipping and reviews; completed sales feed the weekly and monthly leaderboards.
enum SalesWriter: TableWriter {
    static let table = "sales"
    static let columns = [
        "id", "listing_id", "buyer_id", "seller_id", "marketplace_name", "sale_price", "shipping_cost", "final_amount",
        "status", "sale_date", "completed_date", "shipping_carrier", "tracking_number", "shipped_at", "delivered_at",
        "seller_rating", "seller_review", "buyer_rating", "buyer_review", "created_at", "updated_at",
    ]
    static let statuses = ["pending", "completed", "cancelled", "refunded"]

    static func write(_ plan: SeedPlan, into copy: inout CopyWriter) throws {
        var rng = SplitMix64(seed: plan.seed, stream: 113)
        for sale in 0..<plan.saleCount {
            let listing = Int(plan.saleListing[sale])
            let seller = Int(plan.listingOwner[listing])
            let status = plan.saleStatus[sale]
            let date = plan.saleDate[sale]
            let price = Int(plan.salePrice[sale])
            let shipping = rng.percent(30) ? 0 : rng.int(399...1_999)
            let buyer = plan.saleBuyer[sale]
            let mask = plan.accountMask[seller]
            var marketplace = rng.int(0...(Marketplace.count - 1))
            while mask & (1 << UInt8(marketplace)) == 0 { marketplace = (marketplace + 1) % Marketplace.count }
            let shipped = status == .completed || (status == .refunded && rng.percent(70))
            let shippedAt = shipped ? min(plan.now, date + rng.int64(UTCTime.hour...(3 * UTCTime.day))) : nil
            let deliveredAt = shippedAt.map { min(plan.now, $0 + rng.int64(UTCTime.day...(5 * UTCTime.day))) }
            let completedAt = status == .completed ? deliveredAt : nil
            copy.field(sale + 1)
            copy.field(listing + 1)
            copy.field(buyer >= 0 ? Int(buyer) + 1 : nil)
            copy.field(seller + 1)
            copy.field(Marketplace.names[marketplace])
            copy.hundredths(price)
            copy.hundredths(shipping)
            copy.hundredths(price + shipping)
            copy.field(statuses[Int(status.rawValue)])
            copy.timestamp(date)
            copy.timestamp(completedAt)
            copy.field(shipped ? rng.pick(Vocabulary.shippingCarriers) : nil)
            copy.field(shipped ? "1Z" + rng.characters(16, from: Alphabet.upper) : nil)
            copy.timestamp(shippedAt)
            copy.timestamp(deliveredAt)
            let reviewed = status == .completed && rng.percent(75)
            let rating = Int(plan.saleSellerRating[sale])
            copy.field(reviewed ? rating : nil)
            copy.field(reviewed ? Vocabulary.reviews[min(Vocabulary.reviews.count - 1, (5 - rating) * 2 + rng.int(0...1))] : nil)
            copy.field(reviewed ? 4 + rng.int(0...1) : nil)
            copy.field(reviewed && rng.percent(60) ? rng.pick(Vocabulary.buyerReviews) : nil)
            copy.timestamp(date)
            copy.timestamp(completedAt ?? date)
            try copy.endRow()
        }
    }
}
