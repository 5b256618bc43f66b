import Postgres

/// One table's share of the seed: its COPY column list and its rows in id order.
///
/// Each writer draws from its own PRNG stream, so a change in one table's details never
/// shifts another table's data.
protocol TableWriter {
    static var table: String { get }
    static var columns: [String] { get }
    static func write(_ plan: SeedPlan, into copy: inout CopyWriter) throws
}

extension TableWriter {
    static var copyStatement: String {
        "COPY \(table) (\(columns.joined(separator: ", "))) FROM STDIN"
    }
}

/// The fifteen tables in foreign-key order: a table's parents are always written first.
enum SeedTables {
    static var writers: [any TableWriter.Type] {[
        UsersWriter.self, UserStatsWriter.self, BadgesWriter.self, UserBadgesWriter.self,
        ChallengesWriter.self, UserChallengesWriter.self, SubscriptionsWriter.self,
        MarketplaceAccountsWriter.self, ListingsWriter.self, ListingVersionsWriter.self,
        PhotosWriter.self, MarketplaceListingsWriter.self, SalesWriter.self,
        NotificationsWriter.self, AnalyticsEventsWriter.self,
    ]}
    static var names: [String] { writers.map { $0.table } }
}

/// Alphabets for random identifiers.
enum Alphabet {
    static let digits = Array("0123456789".utf8)
    static let alphanumeric = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
    static let bcrypt = Array("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
    static let upper = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)
}
