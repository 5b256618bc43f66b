/// The skeleton of a data set, decided before any row is written: who owns which listing,
/// which listings sold, when and for how much, which marketplace accounts exist.
///
/// Table writers run in foreign-key order, yet `users.total_revenue` depends on sales that
/// are written later; deciding the shared facts first keeps every table consistent and
/// every id known. Row ids are array index + 1. Per-row details that no other table needs
/// are left to each writer's own PRNG stream.
struct SeedPlan: Sendable {
    static let maximumUsers = 5_000_000

    enum UserState: UInt8 { case active, suspended, deleted }
    enum ListingStatus: UInt8 { case draft, published, sold, delisted, archived }
    enum SaleStatus: UInt8 { case pending, completed, cancelled, refunded }

    let seed: UInt64
    /// The reference time ("now") and the starts of its ISO week and calendar month, UTC.
    let now: Int64
    let weekStart: Int64
    let monthStart: Int64
    let userCount: Int

    // Users, by index (id - 1).
    private(set) var userCreatedAt: [Int64] = []
    private(set) var userState: [UserState] = []
    /// 0 free, 1 premium, 2 premium_plus.
    private(set) var userTier: [UInt8] = []
    /// Listings of user `u` are `listingStart[u]..<listingStart[u + 1]` (count `userCount + 1`).
    private(set) var listingStart: [Int32] = [0]
    /// Bit `m` set: the user has an account on `Marketplace.names[m]`.
    private(set) var accountMask: [UInt8] = []
    /// Accounts of user `u` are `accountStart[u]..<accountStart[u + 1]`, in marketplace order.
    private(set) var accountStart: [Int32] = [0]

    // Listings, by index.
    private(set) var listingOwner: [Int32] = []
    private(set) var listingStatus: [ListingStatus] = []
    private(set) var listingCategory: [UInt8] = []
    private(set) var listingPrice: [Int32] = []
    private(set) var listingCreatedAt: [Int64] = []
    private(set) var photoCount: [UInt8] = []

    // Sales, by index: one per sold listing, in listing order (so a seller's are contiguous).
    private(set) var saleListing: [Int32] = []
    private(set) var saleDate: [Int64] = []
    private(set) var saleStatus: [SaleStatus] = []
    private(set) var salePrice: [Int32] = []
    /// Buyer's user index, or -1 when there is no other user.
    private(set) var saleBuyer: [Int32] = []
    /// 1...5, the buyer's rating of the seller.
    private(set) var saleSellerRating: [UInt8] = []
    /// Sales of seller `u` are `saleStart[u]..<saleStart[u + 1]`.
    private(set) var saleStart: [Int32] = [0]

    // Per-user aggregates of completed sales and gamification.
    private(set) var completedSales: [Int32] = []
    private(set) var completedRevenue: [Int64] = []
    private(set) var ratingSum: [Int32] = []
    private(set) var points: [Int32] = []

    var listingCount: Int { listingOwner.count }
    var saleCount: Int { saleListing.count }
    var accountCount: Int { Int(accountStart[userCount]) }

    init(options: SeedOptions) {
        seed = options.seed
        now = options.referenceTime
        weekStart = UTCTime.startOfISOWeek(now)
        monthStart = UTCTime.startOfMonth(now)
        userCount = options.users
        planUsers()
        planListings()
        planSales()
        planPoints()
    }

    /// The id of user `u`'s account on marketplace `m` (which must be in its mask).
    func accountID(user: Int, marketplace: Int) -> Int {
        let below = accountMask[user] & UInt8((1 << marketplace) - 1)
        return Int(accountStart[user]) + below.nonzeroBitCount + 1
    }

    /// Average seller rating of user `u` in hundredths, or nil without completed sales.
    func averageRating(user: Int) -> Int? {
        let count = Int(completedSales[user])
        guard count > 0 else { return nil }
        return (Int(ratingSum[user]) * 100 + count / 2) / count
    }

    private mutating func planUsers() {
        var rng = SplitMix64(seed: seed, stream: 1)
        userCreatedAt.reserveCapacity(userCount)
        for user in 0..<userCount {
            userCreatedAt.append(now - rng.int64(220 * UTCTime.day...1_100 * UTCTime.day))
            // The first users stay active so that forced leaderboard sales have a live seller.
            let state = user < 2 ? 0 : rng.weighted([94, 3, 3])
            userState.append(UserState(rawValue: UInt8(state)) ?? .active)
            userTier.append(UInt8(rng.weighted([80, 15, 5])))
            var mask: UInt8 = 0
            let wanted = 1 + rng.weighted([50, 35, 15])
            while mask.nonzeroBitCount < wanted { mask |= 1 << UInt8(rng.int(0...(Marketplace.count - 1))) }
            accountMask.append(mask)
            accountStart.append(accountStart[user] + Int32(wanted))
        }
    }

    private mutating func planListings() {
        var rng = SplitMix64(seed: seed, stream: 2)
        let estimate = userCount * 5
        listingOwner.reserveCapacity(estimate)
        listingCreatedAt.reserveCapacity(estimate)
        for user in 0..<userCount {
            // User 1 always has two listings: the two forced leaderboard sales.
            let count = user == 0 ? 2 + rng.int(0...7) : 1 + rng.int(0...8)
            for offset in 0..<count {
                let listing = listingOwner.count
                let forcedSold = listing < 2
                let status: ListingStatus = forcedSold
                    ? .sold
                    : ListingStatus(rawValue: UInt8([1, 2, 0, 3, 4][rng.weighted([65, 15, 8, 6, 6])])) ?? .published
                let category = rng.int(0...(Vocabulary.categories.count - 1))
                let kind = Vocabulary.categories[category]
                listingOwner.append(Int32(user))
                listingStatus.append(status)
                listingCategory.append(UInt8(category))
                // Prices cluster at the cheap end: the minimum of two draws.
                let a = rng.int(kind.minimumPrice...kind.maximumPrice)
                let b = rng.int(kind.minimumPrice...kind.maximumPrice)
                listingPrice.append(Int32(min(a, b) / 100 * 100 + [0, 0, 99, 50, 0, 95][offset % 6]))
                let earliest = max(userCreatedAt[user], now - 400 * UTCTime.day)
                listingCreatedAt.append(rng.int64(earliest...(now - UTCTime.minute)))
                photoCount.append(UInt8(1 + rng.int(0...5)))
            }
            listingStart.append(Int32(listingOwner.count))
        }
    }

    private mutating func planSales() {
        var rng = SplitMix64(seed: seed, stream: 3)
        completedSales = Array(repeating: 0, count: userCount)
        completedRevenue = Array(repeating: 0, count: userCount)
        ratingSum = Array(repeating: 0, count: userCount)
        let sixMonths = 182 * UTCTime.day
        for user in 0..<userCount {
            for listing in Int(listingStart[user])..<Int(listingStart[user + 1]) where listingStatus[listing] == .sold {
                let sale = saleListing.count
                // The first sale falls in the current ISO week, the second in the current month,
                // and a share of the rest in each: both leaderboards always have entries, even
                // a second after a period starts (the window is then [start, now]).
                let window = sale < 2 ? sale : rng.weighted([8, 8, 84])
                let date: Int64
                switch window {
                case 0: date = rng.int64(weekStart...now)
                case 1: date = rng.int64(monthStart...now)
                default: date = rng.int64((now - sixMonths)...now)
                }
                let status: SaleStatus = sale < 2
                    ? .completed
                    : SaleStatus(rawValue: UInt8(rng.weighted([6, 85, 5, 4]))) ?? .completed
                let price = Int(listingPrice[listing]) * rng.int(85...100) / 100
                var buyer: Int32 = -1
                if userCount > 1 {
                    let other = rng.int(0...(userCount - 2))
                    buyer = Int32(other >= user ? other + 1 : other)
                }
                let rating = UInt8(1 + rng.weighted([3, 4, 10, 30, 53]))
                saleListing.append(Int32(listing))
                saleDate.append(date)
                saleStatus.append(status)
                salePrice.append(Int32(price))
                saleBuyer.append(buyer)
                saleSellerRating.append(rating)
                // A sold listing was listed some time before it sold.
                let created = max(userCreatedAt[user], date - rng.int64(UTCTime.hour...(30 * UTCTime.day)))
                listingCreatedAt[listing] = created
                if status == .completed {
                    completedSales[user] += 1
                    completedRevenue[user] += Int64(price)
                    ratingSum[user] += Int32(rating)
                }
            }
            saleStart.append(Int32(saleListing.count))
        }
    }

    private mutating func planPoints() {
        var rng = SplitMix64(seed: seed, stream: 4)
        points.reserveCapacity(userCount)
        for user in 0..<userCount {
            let listings = Int(listingStart[user + 1] - listingStart[user])
            points.append(Int32(10 * listings + 50 * Int(completedSales[user]) + rng.int(0...300)))
        }
    }

    /// Level from points: a new level every 250 points, capped at 50.
    func level(user: Int) -> Int {
        min(50, 1 + Int(points[user]) / 250)
    }
}
