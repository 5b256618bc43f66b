import Foundation
import Postgres
import Testing
import TestSupport

/// The migrations against a real PostgreSQL 15: they apply, they are idempotent, and
/// a broken one is rolled back and named.
@Suite struct MigrationTests {
    @Test func allMigrationsApplyToAnEmptyDatabaseInOrder() throws {
        let database = try TestDatabase(label: "migrate_empty", migrated: false)
        defer { database.drop() }
        let migrations = try Migration.load(from: try TestEnvironment.schemaDirectory())
        #expect(migrations.count >= 5)
        #expect(migrations.map(\.version) == migrations.map(\.version).sorted())

        let connection = try database.connect()
        var heard: [String] = []
        let outcome = try Migrator(connection: connection).migrate(migrations) { heard.append($0) }

        #expect(outcome.applied == migrations.map(\.fileName))
        #expect(heard == migrations.map(\.fileName))
        #expect(outcome.alreadyApplied == 0)
        let recorded = try connection.query("SELECT file_name FROM schema_migrations ORDER BY version")
        #expect(recorded.rows.map { $0[0] } == migrations.map(\.fileName))
    }

    @Test func aSecondMigrateChangesNothing() throws {
        let database = try TestDatabase(label: "migrate_twice")
        defer { database.drop() }
        let connection = try database.connect()
        let before = try schemaFingerprint(connection)

        let migrations = try Migration.load(from: try TestEnvironment.schemaDirectory())
        let outcome = try Migrator(connection: connection).migrate(migrations)

        #expect(outcome.applied.isEmpty)
        #expect(outcome.alreadyApplied == migrations.count)
        #expect(try schemaFingerprint(connection) == before)
    }

    @Test func aBrokenMigrationRollsBackAndNamesItsFile() throws {
        let database = try TestDatabase(label: "migrate_broken", migrated: false)
        defer { database.drop() }
        let folder = try copyOfSchemaFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try """
            CREATE TABLE broken_probe (id integer);
            SELECT no_such_function_exists();
            """.write(toFile: folder + "/999_broken.sql", atomically: true, encoding: .utf8)

        let connection = try database.connect()
        let migrations = try Migration.load(from: folder)
        var caught: MigrationError?
        do {
            _ = try Migrator(connection: connection).migrate(migrations)
        } catch let error as MigrationError {
            caught = error
        }

        let error = try #require(caught)
        guard case let .failed(fileName, postgresError) = error else {
            Issue.record("expected .failed, got \(error)")
            return
        }
        #expect(fileName == "999_broken.sql")
        #expect(postgresError.sqlState == "42883")  // undefined_function
        #expect(error.description.contains("999_broken.sql"))
        #expect(error.description.contains("no_such_function_exists"))
        // Everything before it landed; nothing of it did.
        let probe = try connection.query("SELECT to_regclass('broken_probe') IS NULL")
        #expect(probe.scalar == "t")
        let recorded = try connection.query("SELECT count(*) FROM schema_migrations WHERE version = 999")
        #expect(try recorded.scalarInt() == 0)
        let applied = try connection.query("SELECT count(*) FROM schema_migrations")
        #expect(try applied.scalarInt() == migrations.count - 1)
    }

    @Test func anEditedAppliedMigrationIsRefused() throws {
        let database = try TestDatabase(label: "migrate_edited")
        defer { database.drop() }
        let original = try Migration.load(from: try TestEnvironment.schemaDirectory())
        var edited = original
        edited[0] = Migration(version: original[0].version, fileName: original[0].fileName,
                              sql: original[0].sql + "\n-- edited\n")
        #expect(throws: MigrationError.self) {
            _ = try Migrator(connection: try database.connect()).migrate(edited)
        }
    }

    @Test func badMigrationFileNamesAreRejected() throws {
        let folder = NSTemporaryDirectory() + "qs-badnames-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "SELECT 1;".write(toFile: folder + "/create_things.sql", atomically: true, encoding: .utf8)
        #expect {
            _ = try Migration.load(from: folder)
        } throws: { error in
            "\(error)".contains("create_things.sql")
        }
    }

    /// A digest of every column, index, constraint and trigger of the public schema.
    private func schemaFingerprint(_ connection: PostgresConnection) throws -> String {
        let result = try connection.query("""
            SELECT md5(string_agg(item, '|' ORDER BY item)) FROM (
              SELECT table_name || '.' || column_name || ':' || data_type || ':' || coalesce(column_default, '')
                AS item FROM information_schema.columns WHERE table_schema = 'public'
              UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'
              UNION ALL SELECT conname || ':' || pg_get_constraintdef(oid) FROM pg_constraint
                WHERE connamespace = 'public'::regnamespace
              UNION ALL SELECT tgname FROM pg_trigger WHERE NOT tgisinternal
              UNION ALL SELECT 'rows:' || count(*) FROM schema_migrations
            ) items
            """)
        return try #require(result.scalar)
    }

    private func copyOfSchemaFolder() throws -> String {
        let source = try TestEnvironment.schemaDirectory()
        let folder = NSTemporaryDirectory() + "qs-schema-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: source) where name.hasSuffix(".sql") {
            try FileManager.default.copyItem(atPath: source + "/" + name, toPath: folder + "/" + name)
        }
        return folder
    }
}
