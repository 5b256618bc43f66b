import Foundation
import Gateway
import Postgres
import Testing
import TestSupport

/// PostgreSQL restarted under reads (a private server: the shared one is never stopped),
/// then the listener's backend killed alone: hits keep being served, misses fail fast
/// with -TRYAGAIN, pool and listener reconnect, missed invalidations are replayed, and
/// every row reads exactly as PostgreSQL has it afterwards.
@Suite(.timeLimit(.minutes(1))) struct PostgresRestartTests {
    @Test func hitsSurviveARestartMissesFailFastAndNothingIsStaleAfterwards() async throws {
        let rows = 100
        let postgres = try PrivatePostgres()
        defer { postgres.remove() }
        try ListingRows.setUp(count: rows)(try postgres.connect())
        let harness = try await GatewayHarness(
            label: "pg_restart", postgresURL: postgres.url,
            configure: {
                $0.postgres.connectTimeoutSeconds = 1
                $0.postgres.statementTimeoutMilliseconds = 1_000
            })
        defer { Task { await harness.stop() } }
        try await harness.waitForListener()
        let client = try harness.client()
        let cachedRows = 50
        for id in 1...cachedRows { _ = try client.command("GET", "listing:\(id)") }
        let recoveriesBefore = Int(try harness.invalidationInfo()["recoveries"] ?? "") ?? 0

        // Readers of the cached rows only: every one of their reads is a hit throughout.
        let readers = FaultReaders(count: 2, rows: cachedRows, port: harness.port)
        try postgres.stop()
        let stoppedAt = Date()
        var slowestMiss = 0.0
        for id in (rows - 4)...rows {
            let started = Date()
            let reply = try client.command("GET", "listing:\(id)")
            slowestMiss = max(slowestMiss, Date().timeIntervalSince(started))
            #expect(reply.errorText?.hasPrefix("TRYAGAIN") == true, "miss with PostgreSQL down: \(reply)")
        }
        try await Task.sleep(for: .seconds(1))
        let outageSeconds = Date().timeIntervalSince(stoppedAt)
        try postgres.start()
        let restartedAt = Date()

        // Writes right after the restart, to cached rows: their notifications may be sent
        // before the listener is back, so only the replay can catch them.
        let writer = try postgres.connect()
        for id in stride(from: 1, through: cachedRows, by: 3) { try ListingRows.write(writer, id: id) }
        // Caught up, not only connected: on a busy machine the replay may still be under way, and
        // killing the listener then would cut it before it is counted.
        let recovered = try await eventually(seconds: 10) {
            let info = try harness.invalidationInfo()
            let served = try client.command("GET", "listing:\(rows)").string != nil
            return info["listener_connected"] == "1" && info["listener_caught_up"] == "1" && served
        }
        let recoverySeconds = Date().timeIntervalSince(restartedAt)
        #expect(recovered, "pool and listener not back 10 s after the restart")

        // The listener's backend killed alone; writes while it reconnects.
        let listenerKilledAt = Date()
        let killed = try writer.query("""
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE application_name = 'quicksell-gateway listener'
            """)
        #expect(killed.rows.count == 1, "listener backend not found")
        for id in stride(from: 2, through: cachedRows, by: 3) { try ListingRows.write(writer, id: id) }
        let listenerBack = try await eventually(seconds: 10) {
            let info = try harness.invalidationInfo()
            return info["listener_connected"] == "1" && (Int(info["recoveries"] ?? "") ?? 0) >= recoveriesBefore + 2
        }
        let listenerRecoverySeconds = Date().timeIntervalSince(listenerKilledAt)
        let listenerInfo = try harness.invalidationInfo()
        #expect(listenerBack, "the listener did not reconnect and replay: \(listenerInfo)")
        let report = try readers.finish()

        var stale: [String] = []
        let settled = try await eventually(seconds: TimeBounds.recovery) {
            stale = try ListingRows.staleKeys(client: client, connection: writer)
            return stale.isEmpty
        }
        let info = try harness.invalidationInfo()
        print("postgres restart: outage_s=\(String(format: "%.2f", outageSeconds)) "
              + "slowest_miss_s=\(String(format: "%.3f", slowestMiss)) recovery_s=\(String(format: "%.3f", recoverySeconds)) "
              + "listener_kill_recovery_s=\(String(format: "%.3f", listenerRecoverySeconds)) "
              + "recoveries=\((Int(info["recoveries"] ?? "") ?? 0) - recoveriesBefore) hit_readers: \(report) "
              + "stale=\(stale.count)")
        #expect(settled, "stale after the restart: \(stale.prefix(5))")
        #expect(report.errorCount == 0, "cached reads failed while PostgreSQL was away: \(report)")
        #expect(slowestMiss < 1.5, "a miss took \(slowestMiss) s to fail with PostgreSQL down")
    }
}
