import Postgres

/// `users`: profiles with unique usernames and e-mails, secrets (password hashes, OAuth ids)
/// for the leak tests, a few suspended or deleted accounts, and sales totals from the plan.
enum UsersWriter: TableWriter {
    static let table = "users"
    static let columns = [
        "id", "username", "email", "password_hash", "first_name", "last_name", "profile_picture_url", "bio",
        "phone_number", "account_status", "email_verified", "verified_at", "google_id", "facebook_id", "apple_id",
        "theme", "language", "notification_preferences", "subscription_tier", "subscription_expires_at", "points",
        "current_level", "total_sales", "total_revenue", "avg_rating", "created_at", "updated_at", "deleted_at",
    ]
    static let states = ["active", "suspended", "deleted"]
    static let tiers = ["free", "premium", "premium_plus"]
    /// Every combination of four switches, as JSON.
    static let preferences: [String] = (0..<16).map { bits in
        func flag(_ bit: Int) -> String { bits & (1 << bit) != 0 ? "true" : "false" }
        return "{\"email\": \(flag(0)), \"push\": \(flag(1)), \"sms\": \(flag(2)), \"marketing\": \(flag(3))}"
    }

    static func write(_ plan: SeedPlan, into copy: inout CopyWriter) throws {
        var rng = SplitMix64(seed: plan.seed, stream: 101)
        for user in 0..<plan.userCount {
            let person = Identity.person(plan, user: user)
            let created = plan.userCreatedAt[user]
            let state = plan.userState[user]
            copy.field(user + 1)
            copy.field(person.username)
            copy.field(person.username + "@" + rng.pick(Vocabulary.emailDomains))
            copy.field("$2b$12$" + rng.characters(53, from: Alphabet.bcrypt))
            copy.field(person.first)
            copy.field(person.last)
            copy.field(rng.percent(70) ? "https://cdn.quicksell.app/avatars/\(user + 1)-\(rng.hex(8)).jpg" : nil)
            copy.field(rng.percent(50) ? rng.pick(Vocabulary.bios) : nil)
            copy.field(rng.percent(60) ? "+1555" + rng.characters(7, from: Alphabet.digits) : nil)
            copy.field(states[Int(state.rawValue)])
            let verified = rng.percent(85)
            copy.field(verified)
            copy.timestamp(verified ? created + rng.int64(5 * UTCTime.minute...(2 * UTCTime.day)) : nil)
            copy.field(rng.percent(30) ? "1" + rng.characters(20, from: Alphabet.digits) : nil)
            copy.field(rng.percent(15) ? "10" + rng.characters(14, from: Alphabet.digits) : nil)
            copy.field(rng.percent(10) ? "000" + rng.characters(3, from: Alphabet.digits) + "." + rng.hex(32) + "." + rng.characters(4, from: Alphabet.digits) : nil)
            copy.field(rng.percent(35) ? "dark" : "light")
            copy.field(rng.pick(Vocabulary.languages))
            copy.field(preferences[rng.int(0...15)])
            let tier = Int(plan.userTier[user])
            copy.field(tiers[tier])
            copy.timestamp(tier > 0 ? plan.now + rng.int64(UTCTime.day...(365 * UTCTime.day)) : nil)
            copy.field(Int(plan.points[user]))
            copy.field(plan.level(user: user))
            copy.field(Int(plan.completedSales[user]))
            copy.hundredths(Int(plan.completedRevenue[user]))
            copy.hundredths(plan.averageRating(user: user))
            copy.timestamp(created)
            let deleted: Int64? = state == .deleted ? plan.now - rng.int64(UTCTime.day...(60 * UTCTime.day)) : nil
            copy.timestamp(deleted ?? created + rng.int64(0...(plan.now - created)))
            copy.timestamp(deleted)
            try copy.endRow()
        }
    }
}
