import CacheModel
import Foundation
import Gateway
import LoadTest
import Postgres
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The fault soak with the load-test tool's own workload: Zipf reads over all seven
/// families and its write mix (users, listings, photos, marketplace copies, stats,
/// badges, new sales), while Redis restarts, PostgreSQL restarts and the listener's
/// backend is killed. Afterwards every value cached in Redis must equal what PostgreSQL
/// builds for its key.
@Suite(.timeLimit(.minutes(2))) struct LoadWorkloadSoakTests {
    @Test func theLoadTestWorkloadThroughEveryFaultLeavesNothingStale() async throws {
        let redis = try PrivateRedis()
        defer { redis.stop() }
        let postgres = try PrivatePostgres()
        defer { postgres.remove() }
        let seeded = SeedOptions(users: 300, seed: 3, referenceTime: Int64(Date().timeIntervalSince1970))
        _ = try Seeder(connection: try postgres.connect(), options: seeded).run()
        let harness = try await GatewayHarness(
            label: "load_soak", redisURL: redis.url, postgresURL: postgres.url,
            configure: {
                $0.postgres.connectTimeoutSeconds = 1
                $0.postgres.statementTimeoutMilliseconds = 1_000
            })
        defer { Task { await harness.stop() } }
        try await harness.waitForListener()

        let options = RunOptions(port: harness.port, postgresURL: postgres.url, durationSeconds: 14, warmupSeconds: 0,
                                 connections: 4, threads: 2, pipelineDepth: 2, writeRate: 50, seed: 21,
                                 verifyFraction: 0, progress: false, maxKeysPerSet: 300)
        let run = Task.detached { try LoadRunner(options: options).run() }

        try await Task.sleep(for: .seconds(3))
        redis.stop()
        try await Task.sleep(for: .seconds(1))
        try redis.start()
        try await Task.sleep(for: .seconds(3))
        try postgres.stop()
        try await Task.sleep(for: .seconds(1))
        try postgres.start()
        try await Task.sleep(for: .seconds(3))
        _ = try postgres.connect().query("""
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'quicksell-gateway listener'
            """)
        let report = try await run.value

        #expect(try await eventually(seconds: 5) { try harness.invalidationInfo()["listener_connected"] == "1" })
        var stale: [String] = []
        var checked = 0
        let settled = try await eventually(seconds: 5) {
            (stale, checked) = try Self.staleKeys(redis: harness.directRedis(), postgres: postgres.connect())
            return stale.isEmpty
        }
        let info = try harness.invalidationInfo()
        print("load soak: requests=\(report.requests) errors=\(report.errors) writes=\(report.postgres.writesApplied) "
              + "cached_keys_checked=\(checked) stale=\(stale.count) listener_reconnects=\(info["listener_reconnects"] ?? "?") "
              + "recoveries=\(info["recoveries"] ?? "?") redis_restarts=\(info["redis_restarts"] ?? "?")")
        if checked == 0 {
            print("load soak debug: \(info) families: \(try harness.client().command("INFO", "families")) "
                  + "dbsize: \(try harness.directRedis().command("DBSIZE"))")
        }
        #expect(settled, "stale after the soak: \(stale.prefix(5))")
        #expect(report.requests > 1_000 && report.postgres.writesApplied > 100, "the workload barely ran")
        #expect(checked > 100, "too few cached keys to check: \(checked)")
        #expect(report.errors.keys.allSatisfy { $0.contains("TRYAGAIN") }, "unexpected errors: \(report.errors)")
    }

    /// Every family key in Redis whose value differs from what PostgreSQL builds for it now.
    static func staleKeys(redis: RedisTestClient, postgres: PostgresConnection) throws -> ([String], Int) {
        var stale: [String] = []
        var checked = 0
        var cursor = "0"
        repeat {
            guard case .array(let parts) = try redis.command("SCAN", cursor, "COUNT", "500"), parts.count == 2,
                  case .string(let next) = parts[0], case .array(let names) = parts[1] else { break }
            cursor = next
            for case .string(let name) in names {
                guard case .success(let key) = CacheKey.parse(name) else { continue }
                guard case .string(let cached) = try redis.command("GET", name) else { continue }
                let sql = FamilyQueries.sql(key.family)
                let row = try postgres.query(sql, [key.family.hasID ? "{\(key.id)}" : "100"]).rows.first
                let fresh = key.family.hasID ? (row?[1] ?? nil) : (row?[0] ?? nil)
                checked += 1
                // An empty string is the negative cache: the row must be absent.
                if cached.isEmpty ? fresh != nil : cached != fresh { stale.append(name) }
            }
        } while cursor != "0"
        return (stale, checked)
    }
}
