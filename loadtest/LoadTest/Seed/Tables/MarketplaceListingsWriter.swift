import Postgres

/// `marketplace_listings`: 0-3 cross-posted copies per non-draft listing, each on one of
/// the owner's own marketplace accounts (matching `marketplace_name`).
enum MarketplaceListingsWriter: TableWriter {
    static let table = "marketplace_listings"
    static let columns = [
        "id", "listing_id", "marketplace_account_id", "marketplace_name", "marketplace_listing_id", "marketplace_url",
        "sync_status", "last_sync_at", "views_on_marketplace", "clicks_on_marketplace", "posted_price", "synced_data",
        "posted_at", "expires_at", "created_at", "updated_at",
    ]

    static func write(_ plan: SeedPlan, into copy: inout CopyWriter) throws {
        var rng = SplitMix64(seed: plan.seed, stream: 112)
        var id = 0
        for listing in 0..<plan.listingCount {
            let status = plan.listingStatus[listing]
            guard status != .draft else { continue }
            let owner = Int(plan.listingOwner[listing])
            let mask = plan.accountMask[owner]
            let wanted = min(rng.int(0...3), mask.nonzeroBitCount)
            guard wanted > 0 else { continue }
            // Keep `wanted` of the owner's marketplaces: drop random ones until few enough.
            var chosen = mask
            while chosen.nonzeroBitCount > wanted { chosen &= ~(1 << UInt8(rng.int(0...(Marketplace.count - 1)))) }
            let created = plan.listingCreatedAt[listing]
            let price = Int(plan.listingPrice[listing])
            let title = Identity.item(plan, listing: listing).title
            for marketplace in 0..<Marketplace.count where chosen & (1 << UInt8(marketplace)) != 0 {
                id += 1
                let externalID = Marketplace.listingIDPrefixes[marketplace] + String(100_000_000 + listing + 1)
                let posted = min(plan.now, created + rng.int64(0...(6 * UTCTime.hour)))
                let postedPrice = rng.percent(70) ? price : price * rng.int(95...110) / 100
                let syncStatus: String
                switch status {
                case .sold: syncStatus = "sold"
                case .published: syncStatus = ["active", "active", "active", "active", "active", "active", "active", "active", "draft", "error"][rng.int(0...9)]
                default: syncStatus = "delisted"
                }
                let views = rng.int(0...1_500)
                copy.field(id)
                copy.field(listing + 1)
                copy.field(plan.accountID(user: owner, marketplace: marketplace))
                copy.field(Marketplace.names[marketplace])
                copy.field(externalID)
                copy.field(Marketplace.listingURLs[marketplace] + externalID)
                copy.field(syncStatus)
                let lastSync = rng.int64(posted...plan.now)
                copy.timestamp(lastSync)
                copy.field(views)
                copy.field(views / rng.int(4...25))
                copy.hundredths(postedPrice)
                copy.field("{\"title\": \"" + title + "\", \"price\": " + Decimal2.text(postedPrice) + ", \"currency\": \"USD\"}")
                copy.timestamp(posted)
                copy.timestamp(posted + 30 * UTCTime.day)
                copy.timestamp(posted)
                copy.timestamp(lastSync)
                try copy.endRow()
            }
        }
    }
}
