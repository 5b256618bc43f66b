import Foundation
import Gateway
import Logging
import Postgres
import Testing
import TestSupport

/// Issue 25, item 3: the restore drill, with `scripts/backup.sh` (pgBackRest) on a private
/// PostgreSQL: rows, a backup in both repositories, more rows and the time noted, a row too late,
/// a table dropped by mistake; a point-in-time restore from the second repository into a fresh
/// data directory has the rows before the noted
/// time and not the later one, and a gateway on the restored database serves the restored
/// rows once the cache is flushed (values cached from the database before the restore would
/// otherwise be served until their TTL).
@Suite(.serialized) struct BackupRestoreDrillTests {
    /// What one `backup.sh` step may take on a busy 2-core machine (each takes 1-10 s alone).
    private static let stepSeconds = 120.0

    private static func backup(_ arguments: [String], on server: PrivatePostgres) throws -> String {
        try PrivatePostgres.spawn(
            ["/bin/bash", RepoPaths.root.appendingPathComponent("scripts/backup.sh").path] + arguments,
            name: "backup-\(arguments[0])",
            environment: [
                "QUICKSELL_BACKUP_DIR": server.folder + "/backup",
                "QUICKSELL_BACKUP_PG_DATA": server.folder + "/data",
                "QUICKSELL_BACKUP_PG_PORT": String(server.port),
                "QUICKSELL_BACKUP_PG_SOCKET": server.folder,
                "QUICKSELL_BACKUP_PG_LOG": server.folder + "/log",
            ],
            timeout: stepSeconds)
    }

    @Test func aDroppedTableIsRestoredToTheMomentBeforeAndTheGatewayServesIt() async throws {
        let started = ContinuousClock.now
        let primary = try PrivatePostgres()
        defer { primary.remove() }
        try Fixtures.load(try primary.connect())

        // WAL archiving (a restart: archive_mode), then a full backup in both repositories.
        _ = try Self.backup(["setup"], on: primary)
        let database2 = try primary.connect()  // after the restart
        let full = try Self.backup(["full"], on: primary)
        #expect(full.contains("full backup taken in repository 1") && full.contains("full backup taken in repository 2"), "\(full)")
        _ = try Self.backup(["expire"], on: primary)
        // pgBackRest records a backup's stop time to the second: a target in the same second as
        // the stop finds no backup set that stopped before it.
        try await Task.sleep(for: .seconds(1.5))

        // After the backup: one row in time, the time noted, one row too late, then the mistake.
        try database2.execute("""
            INSERT INTO listings (id, user_id, title, description, category, condition, price, status)
            VALUES (200, 1, 'Desk before the mistake', 'd', 'home', 'good', 40, 'published')
            """)
        let target = try #require(try database2.execute(
            "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'").scalar)
        try await Task.sleep(for: .milliseconds(50))
        try database2.execute("""
            INSERT INTO listings (id, user_id, title, description, category, condition, price, status)
            VALUES (201, 1, 'Lamp after the noted time', 'd', 'home', 'good', 15, 'published')
            """)

        // A gateway on the original database caches both new listings in its Redis database.
        let original = try await GatewayHarness(label: "drill_original", postgresURL: primary.url)
        let redisDatabase = original.redisDatabase
        var configuration = original.configuration
        #expect(try original.client().command("GET", "listing:200").string?.contains("Desk before") == true)
        #expect(try original.client().command("GET", "listing:201").string?.contains("Lamp after") == true)
        await original.stop()

        try database2.execute("DROP TABLE listings CASCADE")
        #expect(throws: PostgresError.self) { try database2.execute("SELECT count(*) FROM listings") }
        // Forces a WAL switch and waits until the segment with the mistake is archived.
        _ = try Self.backup(["check"], on: primary)

        // Restore into a fresh data directory (archiving off: a drill must not write to the
        // production repositories), start a server on it, wait for the end of recovery.
        let restoredFolder = NSTemporaryDirectory() + "quicksell-pg-restored-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: restoredFolder, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.ownerAccountName: "postgres"], ofItemAtPath: restoredFolder)
        // From repository 2, the second site: its backup and its copy of the WAL are enough.
        let restore = try Self.backup(["restore", "--target", target, "--to", restoredFolder + "/data", "--repo", "2",
                                       "--archive-off"], on: primary)
        #expect(restore.contains("restored to \(target)"))
        let restored = try PrivatePostgres(existingDataIn: restoredFolder)
        defer { restored.remove() }
        let recovered = try await eventually(seconds: 60) {
            (try? restored.connect().execute("SELECT pg_is_in_recovery()").scalar) == "f"
        }
        try #require(recovered, "the restored server did not finish recovery")
        let check = try restored.connect()
        let titles = try check.execute("SELECT id, title FROM listings WHERE id IN (10, 12, 200, 201) ORDER BY id").rows
        #expect(titles.map { $0[0] ?? "" } == ["10", "12", "200"], "\(titles)")
        #expect(try check.execute("SELECT count(*) FROM marketplace_listings WHERE listing_id = 10").scalarInt() == 2)

        // A gateway on the restored database, on the Redis database that still holds the old values.
        let stale = try GatewayHarness.directRedis(database: redisDatabase)
        #expect(try stale.command("GET", "listing:201").string?.contains("Lamp after") == true)
        configuration.postgres = PostgresPool.Configuration(url: restored.url, size: 2)
        configuration.invalidation.replicationSlot = TestSlots.nextName()
        var quiet = Logger(label: "test.drill")
        quiet.logLevel = .warning
        let gateway = try await Gateway.start(configuration: configuration, logger: quiet)
        defer { Task { await gateway.shutdown() } }
        let client = try RedisTestClient(port: gateway.port)
        // The procedure's step (README): flush every family, what quicksell-cache flush --all sends.
        _ = try client.command("QUICKSELL", "FLUSHALL")
        #expect(try client.command("GET", "listing:200").string?.contains("Desk before") == true)
        #expect(try client.command("GET", "listing:201").string == nil)
        #expect(try client.command("GET", "listing:10").string?.contains("Lamp") == true)
        let seconds = (ContinuousClock.now - started).components.seconds
        #expect(seconds < 300, "the drill took \(seconds) s")
    }
}
