import Postgres

/// `marketplace_accounts`: 1-3 per user, one per marketplace, with OAuth tokens (secrets
/// that must never reach the cache).
enum MarketplaceAccountsWriter: TableWriter {
    static let table = "marketplace_accounts"
    static let columns = [
        "id", "user_id", "marketplace_name", "marketplace_user_id", "access_token", "refresh_token",
        "token_expires_at", "account_name", "seller_rating", "total_sales_on_platform", "is_active",
        "auto_sync_enabled", "created_at", "updated_at",
    ]

    static func write(_ plan: SeedPlan, into copy: inout CopyWriter) throws {
        var rng = SplitMix64(seed: plan.seed, stream: 108)
        var id = 0
        for user in 0..<plan.userCount {
            let mask = plan.accountMask[user]
            let username = Identity.person(plan, user: user).username
            for marketplace in 0..<Marketplace.count where mask & (1 << UInt8(marketplace)) != 0 {
                id += 1
                let created = rng.int64(plan.userCreatedAt[user]...(plan.now - UTCTime.hour))
                copy.field(id)
                copy.field(user + 1)
                copy.field(Marketplace.names[marketplace])
                copy.field(Marketplace.listingIDPrefixes[marketplace] + "U" + rng.characters(10, from: Alphabet.digits))
                copy.field("qs_at_" + rng.hex(48))
                copy.field("qs_rt_" + rng.hex(48))
                copy.timestamp(plan.now + rng.int64(-2 * UTCTime.day...(60 * UTCTime.day)))
                copy.field(rng.percent(70) ? username : username + "_" + Marketplace.listingIDPrefixes[marketplace].lowercased())
                copy.hundredths(rng.percent(85) ? rng.int(300...500) : nil)
                copy.field(rng.int(0...400))
                copy.field(rng.percent(93))
                copy.field(rng.percent(80))
                copy.timestamp(created)
                copy.timestamp(rng.int64(created...plan.now))
                try copy.endRow()
            }
        }
    }
}
