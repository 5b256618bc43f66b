import CacheModel
import Postgres

/// The ids that exist, read once from PostgreSQL at start, in popularity order.
///
/// Ids are shuffled with the run's seed before Zipf ranks are laid on them, so the hot
/// keys are spread over the table rather than being the oldest rows.
public struct KeyUniverse: Sendable {
    public let userIDs: [Int]
    public let listingIDs: [Int]

    public init(userIDs: [Int], listingIDs: [Int]) {
        self.userIDs = userIDs
        self.listingIDs = listingIDs
    }

    /// `SELECT id FROM users/listings ORDER BY id`, shuffled with `seed`, capped at `limit`.
    public static func load(from connection: PostgresConnection, seed: UInt64, limit: Int?) throws -> KeyUniverse {
        func ids(_ table: String, stream: UInt64) throws -> [Int] {
            var ids = try connection.query("SELECT id FROM \(table) ORDER BY id").rows.compactMap { row in
                row.first.flatMap { $0 }.flatMap { Int($0) }
            }
            var random = SplitMix64(seed: seed, stream: stream)
            if ids.count > 1 {
                for index in stride(from: ids.count - 1, to: 0, by: -1) {
                    ids.swapAt(index, random.int(0...index))
                }
            }
            if let limit, ids.count > limit { ids.removeLast(ids.count - limit) }
            return ids
        }
        return KeyUniverse(userIDs: try ids("users", stream: 0x10AD_0001), listingIDs: try ids("listings", stream: 0x10AD_0002))
    }

    func ids(_ source: IDSource) -> [Int] {
        switch source {
        case .users: return userIDs
        case .listings: return listingIDs
        }
    }

    /// Every key of the families with a positive weight (for pre-warming).
    func allKeys(of families: [KeyFamily]) -> [String] {
        families.flatMap { family -> [String] in
            guard let source = family.idSource else { return [family.rawValue] }
            return ids(source).map { family.key($0) }
        }
    }
}

/// Picks a family by weight, then a key of it by Zipf rank.
struct KeyChooser: Sendable {
    private let families: [KeyFamily]
    private let cumulativeWeights: [Int]
    private let universe: KeyUniverse
    private let userSampler: ZipfSampler?
    private let listingSampler: ZipfSampler?

    init(options: RunOptions, universe: KeyUniverse) throws(RunError) {
        let chosen = KeyFamily.allCases.filter { (options.mix[$0] ?? 0) > 0 }
        var running = 0
        cumulativeWeights = chosen.map { running += options.mix[$0] ?? 0; return running }
        families = chosen
        self.universe = universe
        let needsUsers = chosen.contains { $0.idSource == .users }
        let needsListings = chosen.contains { $0.idSource == .listings }
        if needsUsers, universe.userIDs.isEmpty { throw .emptyUniverse("the users table is empty: seed it first (quicksell-loadtest seed)") }
        if needsListings, universe.listingIDs.isEmpty { throw .emptyUniverse("the listings table is empty: seed it first (quicksell-loadtest seed)") }
        // Both samplers whenever there are ids: the writer draws from both sets.
        userSampler = universe.userIDs.isEmpty ? nil : ZipfSampler(count: universe.userIDs.count, skew: options.zipfSkew)
        listingSampler = universe.listingIDs.isEmpty ? nil : ZipfSampler(count: universe.listingIDs.count, skew: options.zipfSkew)
    }

    var activeFamilies: [KeyFamily] { families }

    func next(_ random: inout SplitMix64) -> (KeyFamily, String, Int) {
        let total = cumulativeWeights.last ?? 1
        let roll = random.int(0...(total - 1))
        var index = 0
        while index < cumulativeWeights.count - 1, cumulativeWeights[index] <= roll { index += 1 }
        let family = families[index]
        let id = self.id(for: family.idSource, &random)
        return (family, family.key(id), id)
    }

    /// An id of `source` drawn uniformly (writes spread over all rows, as real edits do).
    func uniformID(for source: IDSource, _ random: inout SplitMix64) -> Int {
        let ids = universe.ids(source)
        return ids.isEmpty ? 0 : ids[random.int(0...(ids.count - 1))]
    }

    /// A Zipf-popular id of `source` (0 for the leaderboards).
    func id(for source: IDSource?, _ random: inout SplitMix64) -> Int {
        switch source {
        case .users: return userSampler.map { universe.userIDs[$0.next(&random)] } ?? 0
        case .listings: return listingSampler.map { universe.listingIDs[$0.next(&random)] } ?? 0
        case nil: return 0
        }
    }
}
