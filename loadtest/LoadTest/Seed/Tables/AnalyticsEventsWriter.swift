import Postgres

/// `analytics_events`: 0-15 app events per user in the last 30 days, in sessions.
enum AnalyticsEventsWriter: TableWriter {
    static let table = "analytics_events"
    static let columns = [
        "id", "user_id", "event_type", "event_name", "listing_id", "marketplace_name", "event_data", "session_id",
        "ip_address", "user_agent", "created_at",
    ]
    static let types = ["app_open", "listing_view", "listing_edit", "photo_upload", "marketplace_sync", "search"]
    static let names = ["App opened", "Viewed listing", "Edited listing", "Uploaded photo", "Synced to marketplace", "Searched"]
    static let queries = ["vintage jacket", "iphone", "lego", "sneakers size 10", "desk lamp", "board games"]

    static func write(_ plan: SeedPlan, into copy: inout CopyWriter) throws {
        var rng = SplitMix64(seed: plan.seed, stream: 115)
        var id = 0
        for user in 0..<plan.userCount {
            let listings = Int(plan.listingStart[user])..<Int(plan.listingStart[user + 1])
            let mask = plan.accountMask[user]
            let agent = rng.pick(Vocabulary.userAgents)
            let ip = "\(rng.int(11...223)).\(rng.int(0...255)).\(rng.int(0...255)).\(rng.int(1...254))"
            var session = rng.hex(32)
            var time = plan.now - rng.int64(0...(30 * UTCTime.day))
            for _ in 0..<rng.int(0...15) {
                id += 1
                if rng.percent(30) { session = rng.hex(32) }
                time = min(plan.now, time + rng.int64(5...(2 * UTCTime.hour)))
                let kind = rng.weighted([20, 35, 10, 15, 10, 10])
                var listing: Int?
                var marketplace: String?
                let data: String
                switch kind {
                case 1...3 where !listings.isEmpty:
                    let chosen = rng.int(listings.lowerBound...(listings.upperBound - 1))
                    listing = chosen
                    data = "{\"listing_id\": \(chosen + 1), \"duration_ms\": \(rng.int(200...60_000))}"
                case 4:
                    var choice = rng.int(0...(Marketplace.count - 1))
                    while mask & (1 << UInt8(choice)) == 0 { choice = (choice + 1) % Marketplace.count }
                    marketplace = Marketplace.names[choice]
                    data = "{\"items\": \(rng.int(1...25)), \"ok\": \(rng.percent(95))}"
                case 5:
                    data = "{\"query\": \"" + rng.pick(queries) + "\", \"results\": \(rng.int(0...400))}"
                default:
                    data = "{\"cold_start\": \(rng.percent(30))}"
                }
                copy.field(id)
                copy.field(user + 1)
                copy.field(types[kind])
                copy.field(names[kind])
                copy.field(listing.map { $0 + 1 })
                copy.field(marketplace)
                copy.field(data)
                copy.field(session)
                copy.field(ip)
                copy.field(agent)
                copy.timestamp(time)
                try copy.endRow()
            }
        }
    }
}
