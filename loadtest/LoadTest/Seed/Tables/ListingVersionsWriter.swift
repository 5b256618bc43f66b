import Postgres

/// `listing_versions`: an edit history (1-3 earlier versions) for about 30% of listings.
enum ListingVersionsWriter: TableWriter {
    static let table = "listing_versions"
    static let columns = [
        "id", "listing_id", "title", "description", "price", "status", "changes", "version", "created_at", "created_by",
    ]

    static func write(_ plan: SeedPlan, into copy: inout CopyWriter) throws {
        var rng = SplitMix64(seed: plan.seed, stream: 110)
        var id = 0
        for listing in 0..<plan.listingCount where rng.percent(30) {
            let versions = 1 + rng.int(0...2)
            let title = Identity.item(plan, listing: listing).title
            let price = Int(plan.listingPrice[listing])
            var time = plan.listingCreatedAt[listing]
            for version in 1...versions {
                // Earlier versions asked more: each later version cut the price by 5%.
                let old = price * (100 + 5 * (versions - version + 1)) / 100
                let new = price * (100 + 5 * (versions - version)) / 100
                time = rng.int64(time...max(time, plan.now - UTCTime.minute))
                id += 1
                copy.field(id)
                copy.field(listing + 1)
                copy.field(title)
                copy.field(rng.percent(50) ? "Edited description, version \(version)." : nil)
                copy.hundredths(new)
                copy.field(version == 1 ? "draft" : "published")
                copy.field("{\"price\": {\"old\": " + Decimal2.text(old) + ", \"new\": " + Decimal2.text(new) + "}}")
                copy.field(version)
                copy.timestamp(time)
                copy.field(Int(plan.listingOwner[listing]) + 1)
                try copy.endRow()
            }
        }
    }
}
