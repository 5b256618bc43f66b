import Foundation
@testable import Postgres
import Testing
import TestSupport

/// 008_invalidation_stream.sql squashes 006-008 (config/schema/history/ keeps them): a new
/// database and one migrated step by step before the squash end with the same schema, and the
/// migrator adopts the older one without applying anything.
@Suite struct SquashedMigrationTests {
    @Test func aDatabaseUpgradedStepByStepEndsIdenticalToAFreshOne() throws {
        let fresh = try TestDatabase(label: "squash_fresh")
        defer { fresh.drop() }
        let stepwise = try TestDatabase(label: "squash_stepwise", migrated: false)
        defer { stepwise.drop() }
        let current = try currentMigrations()
        let connection = try stepwise.connect()
        let before = try Migrator(connection: connection).migrate(try stepByStepMigrations())
        #expect(before.applied.contains("007_invalidation_doorbell.sql"))

        let outcome = try Migrator(connection: connection).migrate(current)

        #expect(outcome.applied.isEmpty)
        #expect(outcome.alreadyApplied == current.count)
        let freshConnection = try fresh.connect()
        let freshCatalog = try SchemaCatalog.lines(of: freshConnection)
        #expect(freshCatalog.contains { $0.hasPrefix("trigger CREATE TRIGGER trg_users_invalidate_row") })
        #expect(try SchemaCatalog.lines(of: connection) == freshCatalog)
        #expect(try SchemaCatalog.recordedMigrations(of: connection) == SchemaCatalog.recordedMigrations(of: freshConnection))
        // Adopted once: the next run finds the squash's own record.
        #expect(try Migrator(connection: connection).migrate(current).alreadyApplied == current.count)
    }

    @Test func theSquashNamesTheHistoryFilesWithTheChecksumsTheyWereAppliedWith() throws {
        let squash = try #require(try currentMigrations().first { !(try $0.squashed()).isEmpty })
        let history = try Migration.load(from: try historyDirectory())
        let squashed = try squash.squashed()
        #expect(squashed.map(\.fileName) == history.map(\.fileName))
        #expect(squashed.map(\.checksum) == history.map(\.checksum))
        #expect(squashed.map(\.version).contains(squash.version))
    }

    @Test func aDatabaseStoppedInsideTheSquashedStepsIsRefusedAndNamed() throws {
        let database = try TestDatabase(label: "squash_partial", migrated: false)
        defer { database.drop() }
        let connection = try database.connect()
        let upTo006 = try stepByStepMigrations().filter { $0.version <= 6 }
        _ = try Migrator(connection: connection).migrate(upTo006)
        let catalog = try SchemaCatalog.lines(of: connection)

        #expect {
            _ = try Migrator(connection: connection).migrate(try currentMigrations())
        } throws: { error in
            guard case let .partlySquashed(fileName, applied, missing) = error as? MigrationError else { return false }
            return fileName == "008_invalidation_stream.sql" && applied == ["006_cache_invalidation.sql"]
                && missing == ["007_invalidation_doorbell.sql", "008_invalidation_stream.sql"]
        }
        #expect(try SchemaCatalog.lines(of: connection) == catalog)
    }

    @Test func theMigratorDecidesFromTheRecordsAlone() throws {
        let squash = Migration(version: 8, fileName: "008_new.sql", sql: """
            -- squashes: 006_a.sql 0000000000000006
            -- squashes: 008_b.sql 0000000000000008
            SELECT 1;
            """)
        let squashed = try squash.squashed()
        #expect(try Migrator.state(of: squash, recorded: [:]) == .pending)
        #expect(try Migrator.state(of: squash, recorded: [8: squash.checksum]) == .applied)
        #expect(try Migrator.state(of: squash, recorded: [6: "0000000000000006", 8: "0000000000000008"])
            == .squashedApplied(squashed))
        #expect(throws: MigrationError.self) {
            _ = try Migrator.state(of: squash, recorded: [6: "0000000000000006"])
        }
        #expect(throws: MigrationError.self) {
            _ = try Migrator.state(of: squash, recorded: [6: "0000000000000006", 8: "edited"])
        }
        #expect(throws: MigrationError.self) {
            _ = try Migration(version: 9, fileName: "009_x.sql", sql: "-- squashes: nonsense\n").squashed()
        }
    }

    private func currentMigrations() throws -> [Migration] {
        try Migration.load(from: try TestEnvironment.schemaDirectory())
    }

    private func historyDirectory() throws -> String {
        try TestEnvironment.schemaDirectory() + "/history"
    }

    /// The files a database applied before the squash: 001-005 and history/'s 006-008.
    private func stepByStepMigrations() throws -> [Migration] {
        let history = try Migration.load(from: try historyDirectory())
        let replaced = Set(history.map(\.version))
        return (try currentMigrations().filter { !replaced.contains($0.version) } + history).sorted { $0.version < $1.version }
    }
}
