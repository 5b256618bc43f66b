import Postgres

/// `listings`: about five per user, mostly published, some sold (as planned), draft,
/// delisted or archived, and a few soft-deleted.
enum ListingsWriter: TableWriter {
    static let table = "listings"
    static let columns = [
        "id", "user_id", "title", "description", "category", "condition", "price", "estimated_price", "status",
        "brand", "model", "color", "size", "weight_kg", "dimensions", "local_pickup_available", "shipping_available",
        "estimated_shipping_cost", "view_count", "click_count", "ai_description_generated", "ai_price_estimated",
        "confidence_score", "created_at", "updated_at", "published_at", "deleted_at",
    ]
    static let statuses = ["draft", "published", "sold", "delisted", "archived"]
    static let conditions = ["new", "like_new", "good", "fair", "poor"]

    static func write(_ plan: SeedPlan, into copy: inout CopyWriter) throws {
        var rng = SplitMix64(seed: plan.seed, stream: 109)
        for listing in 0..<plan.listingCount {
            let item = Identity.item(plan, listing: listing)
            let status = plan.listingStatus[listing]
            let created = plan.listingCreatedAt[listing]
            let price = Int(plan.listingPrice[listing])
            let condition = rng.weighted([15, 25, 35, 18, 7])
            let ai = rng.percent(45)
            copy.field(listing + 1)
            copy.field(Int(plan.listingOwner[listing]) + 1)
            copy.field(item.title)
            copy.field(item.brand + " " + item.item.lowercased() + " in " + item.color.lowercased() + ". "
                + Vocabulary.conditionPhrases[condition] + " " + rng.pick(Vocabulary.closingPhrases))
            copy.field(Vocabulary.categories[Int(plan.listingCategory[listing])].name)
            copy.field(conditions[condition])
            copy.hundredths(price)
            copy.hundredths(rng.percent(60) ? price * rng.int(80...125) / 100 : nil)
            copy.field(statuses[Int(status.rawValue)])
            copy.field(item.brand)
            copy.field(rng.percent(40) ? Alphabet.modelName(&rng) : nil)
            copy.field(item.color)
            copy.field(item.size)
            copy.hundredths(rng.percent(70) ? rng.int(5...2_500) : nil)
            copy.field(rng.percent(40) ? "\(rng.int(5...120)) x \(rng.int(5...80)) x \(rng.int(2...60)) cm" : nil)
            copy.field(rng.percent(35))
            copy.field(rng.percent(90))
            copy.hundredths(rng.percent(80) ? rng.int(0...3_000) : nil)
            let views = status == .draft ? 0 : rng.int(0...2_000)
            copy.field(views)
            copy.field(views / rng.int(3...20))
            copy.field(ai)
            copy.field(ai && rng.percent(70))
            copy.hundredths(ai ? rng.int(55...99) : nil)
            copy.timestamp(created)
            let published: Int64? = status == .draft ? nil : created + rng.int64(0...min(UTCTime.hour, plan.now - created))
            let deleted: Int64? = status != .sold && rng.percent(3) ? rng.int64(created...plan.now) : nil
            copy.timestamp(deleted ?? rng.int64((published ?? created)...plan.now))
            copy.timestamp(published)
            copy.timestamp(deleted)
            try copy.endRow()
        }
    }
}

extension Alphabet {
    /// A product model code such as `XK-420`.
    static func modelName(_ rng: inout SplitMix64) -> String {
        rng.characters(2, from: upper) + "-" + String(rng.int(100...9_999))
    }
}
