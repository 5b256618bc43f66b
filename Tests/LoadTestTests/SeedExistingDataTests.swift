import LoadTest
import Testing
import TestSupport

/// A database that holds data is refused, left alone (--if-empty) or replaced (--truncate).
@Suite struct SeedExistingDataTests {
    @Test func ifEmptyLeavesDataAloneAndPlainSeedIsRefused() throws {
        let database = try TestDatabase(label: "seed_existing")
        defer { database.drop() }
        let reference = try #require(UTCTime.parseISO8601("2026-02-10T10:00:00Z"))
        try SeedFixtures.seed(database, users: 50, referenceTime: reference)
        let connection = try database.connect()
        let before = try SeedFixtures.tables.map { try SeedFixtures.fingerprint(connection, $0) }

        let skipped = try SeedFixtures.seed(database, users: 80, seed: 3, referenceTime: reference + 999,
                                            existingData: .skipIfUsersExist)
        guard case let .skipped(existingUsers) = skipped else {
            Issue.record("--if-empty seeded a non-empty database: \(skipped)")
            return
        }
        #expect(existingUsers == 50)
        #expect(try SeedFixtures.tables.map { try SeedFixtures.fingerprint(connection, $0) } == before)

        let refusal = #expect(throws: SeedError.self) {
            try SeedFixtures.seed(database, users: 50, referenceTime: reference)
        }
        #expect(refusal == .databaseNotEmpty(tables: SeedFixtures.tables))
        let message = refusal.map { "\($0)" } ?? ""
        #expect(message.contains("--truncate") && message.contains("--if-empty"))
        #expect(try SeedFixtures.tables.map { try SeedFixtures.fingerprint(connection, $0) } == before)
    }

    @Test func truncateReplacesDataWithTheSameDeterministicSet() throws {
        let database = try TestDatabase(label: "seed_truncate")
        defer { database.drop() }
        let reference = try #require(UTCTime.parseISO8601("2026-02-10T10:00:00Z"))
        try SeedFixtures.seed(database, users: 60, referenceTime: reference)
        let connection = try database.connect()
        let before = try SeedFixtures.tables.map { try SeedFixtures.fingerprint(connection, $0) }
        try connection.execute("INSERT INTO badges (badge_key, badge_name) VALUES ('extra', 'Extra')")

        let outcome = try SeedFixtures.seed(database, users: 60, referenceTime: reference, existingData: .truncate)
        guard case .seeded = outcome else {
            Issue.record("--truncate did not seed: \(outcome)")
            return
        }
        #expect(try SeedFixtures.count(connection, "SELECT count(*) FROM badges WHERE badge_key = 'extra'") == 0)
        #expect(try SeedFixtures.tables.map { try SeedFixtures.fingerprint(connection, $0) } == before)
    }
}
