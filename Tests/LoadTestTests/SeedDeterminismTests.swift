import LoadTest
import Testing
import TestSupport

/// Equal seed, user count and reference time give byte-identical tables; another seed does not.
@Suite struct SeedDeterminismTests {
    @Test func sameSeedGivesIdenticalTablesAndAnotherSeedDiffers() throws {
        let first = try TestDatabase(label: "seed_det_a")
        defer { first.drop() }
        let second = try TestDatabase(label: "seed_det_b")
        defer { second.drop() }
        let third = try TestDatabase(label: "seed_det_c")
        defer { third.drop() }
        let reference = try #require(UTCTime.parseISO8601("2026-03-04T05:06:07Z"))
        try SeedFixtures.seed(first, users: 400, seed: 99, referenceTime: reference)
        try SeedFixtures.seed(second, users: 400, seed: 99, referenceTime: reference)
        try SeedFixtures.seed(third, users: 400, seed: 100, referenceTime: reference)
        let a = try first.connect()
        let b = try second.connect()
        let c = try third.connect()
        for table in SeedFixtures.tables {
            let left = try SeedFixtures.fingerprint(a, table)
            #expect(left != nil, "\(table) has no rows")
            #expect(left == (try SeedFixtures.fingerprint(b, table)), "\(table) differs between equal seeds")
        }
        #expect(try SeedFixtures.fingerprint(a, "users") != (try SeedFixtures.fingerprint(c, "users")))
        #expect(try SeedFixtures.fingerprint(a, "listings") != (try SeedFixtures.fingerprint(c, "listings")))
    }
}
