import Foundation
import Gateway
import Invalidation
import Postgres
import Testing
import TestSupport

/// Forgotten replication slots (issue 22, item 4): a gateway reports the WAL its slot holds
/// back, warns past a threshold, and `quicksell-cache slots` lists and drops slots, on the
/// test PostgreSQL server (each test owns its database and `qs_test_*` slots).
@Suite(.serialized, .timeLimit(.minutes(2))) struct ReplicationSlotRetentionTests {
    /// About 2 MB of WAL.
    private static let writes = "CREATE TABLE IF NOT EXISTS slot_filler (id int, pad text); "
        + "INSERT INTO slot_filler SELECT g, repeat('x', 200) FROM generate_series(1, 10000) g"

    @Test func slotsListsAForgottenSlotWithItsWALDropsItAndRefusesTheSlotAGatewayStreams() async throws {
        let harness = try await GatewayHarness(
            label: "cli_slots", invalidation: InvalidationSettings(source: .wal, leaderboardIntervalSeconds: 0),
            setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        try await harness.waitForListener()
        let url = harness.database.url
        let streamed = harness.configuration.invalidation.replicationSlot
        let forgotten = TestSlots.nextName()
        let connection = try harness.database.connect()
        _ = try connection.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [forgotten])
        try connection.execute(Self.writes)
        let pid = try #require(try connection.query(
            "SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1", [streamed]).scalar)

        let listed = try await CacheCLI.run(["slots", "--postgres-url", url])
        #expect(listed.status == 0, "\(listed.stderr)")
        let rows = Self.rows(listed.stdout)
        let forgottenRow = try #require(rows[forgotten], "\(listed.stdout)")
        #expect(forgottenRow[1] == "inactive" && forgottenRow[2] == "-", "\(forgottenRow)")
        #expect((Int(forgottenRow[forgottenRow.count - 2]) ?? 0) > 1_000_000, "~2 MB were written: \(forgottenRow)")
        #expect(forgottenRow.last == "reserved", "\(forgottenRow)")
        let streamedRow = try #require(rows[streamed], "\(listed.stdout)")
        #expect(streamedRow[1] == "active" && streamedRow[2] == pid, "\(streamedRow)")
        #expect(listed.stdout.contains("2 logical slot(s) in database \(harness.database.name)"), "\(listed.stdout)")
        #expect(listed.stdout.contains("1 inactive, holding back "), "\(listed.stdout)")

        // The slot a gateway streams is refused, naming the process; nothing is dropped.
        let refused = try await CacheCLI.run(["slots", "--postgres-url", url, "--drop", streamed, "--yes"])
        #expect(refused.status == 1 && refused.stdout.isEmpty)
        #expect(refused.stderr == "quicksell-cache: error: replication slot '\(streamed)' is active: server process \(pid) "
                    + "streams it (a running gateway?); stop that gateway first, or terminate the process\n", "\(refused.stderr)")
        #expect(try Self.slotExists(streamed, connection))

        let dropped = try await CacheCLI.run(["slots", "--postgres-url", url, "--drop", forgotten, "--yes"])
        #expect(dropped.status == 0, "\(dropped.stderr)")
        #expect(dropped.stdout.hasPrefix("dropped replication slot \(forgotten) in database \(harness.database.name)"),
                "\(dropped.stdout)")
        #expect(try !Self.slotExists(forgotten, connection))
        let again = try await CacheCLI.run(["slots", "--postgres-url", url, "--drop", forgotten, "--yes"])
        #expect(again.status == 1)
        #expect(again.stderr == "quicksell-cache: error: no logical replication slot named '\(forgotten)' "
                    + "in database \(harness.database.name)\n", "\(again.stderr)")
        let after = try await CacheCLI.run(["slots", "--postgres-url", url])
        #expect(Self.rows(after.stdout)[forgotten] == nil && Self.rows(after.stdout)[streamed] != nil, "\(after.stdout)")
        let misuse = try await CacheCLI.run(["slots", "--postgres-url", url, "--yes"])
        #expect(misuse.status != 0 && misuse.stderr.contains("--yes needs --drop NAME"), "\(misuse.stderr)")
    }

    @Test func aGatewayOnTheWalSourceReportsTheWALItsSlotHoldsBackInInfoAndMetrics() async throws {
        let harness = try await GatewayHarness(
            label: "slot_info", invalidation: InvalidationSettings(source: .wal, leaderboardIntervalSeconds: 0),
            metricsPort: 0, setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        try await harness.waitForListener()
        try harness.database.connect().execute(Self.writes)
        let reported = try await eventually(seconds: 10) {
            Int(try harness.invalidationInfo()["replication_slot_retained_bytes"] ?? "") != nil
        }
        let info = try harness.invalidationInfo()
        #expect(reported, "\(info)")
        #expect((Int(info["replication_slot_retained_bytes"] ?? "") ?? -1) >= 0, "\(info)")
        let port = try #require(harness.gateway.endpoints?.port)
        let gauge = sample(try httpGet(port: port, path: "/metrics").body, "quicksell_replication_slot_retained_bytes")
        #expect(gauge.map { $0 >= 0 } == true, "no quicksell_replication_slot_retained_bytes gauge")

        // The notify source has no slot: no figure, no gauge.
        let notify = try await GatewayHarness(
            label: "slot_info_notify", invalidation: InvalidationSettings(source: .notify, leaderboardIntervalSeconds: 0),
            metricsPort: 0, setUp: Fixtures.load)
        defer { Task { await notify.stop() } }
        try await notify.waitForListener()
        try await Task.sleep(for: .seconds(2))
        #expect(try notify.invalidationInfo()["replication_slot_retained_bytes"] == nil)
        let notifyPort = try #require(notify.gateway.endpoints?.port)
        #expect(sample(try httpGet(port: notifyPort, path: "/metrics").body, "quicksell_replication_slot_retained_bytes") == nil)
    }

    @Test func theRetainedFigureGrowsWhileNobodyStreamsAndWarnsOncePerCrossing() async throws {
        let database = try TestDatabase(label: "slot_retention")
        defer { database.drop() }
        let connection = try database.connect()
        let slot = TestSlots.nextName()
        _ = try connection.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [slot])
        let log = CapturedLog()
        let retention = SlotRetention(slot: slot, warningBytes: 1_000_000, logger: log.logger())
        let start = ContinuousClock.now
        retention.readIfDue(connection, now: start)
        let before = try #require(retention.retainedBytes)
        #expect(before < 1_000_000 && log.messages.isEmpty, "\(before) \(log.messages)")

        try connection.execute(Self.writes)
        retention.readIfDue(connection, now: start + .seconds(1))
        #expect(retention.retainedBytes == before, "read again before its interval")
        retention.readIfDue(connection, now: start + .seconds(5))
        let grown = try #require(retention.retainedBytes)
        #expect(grown > before + 1_000_000, "\(before) → \(grown)")
        try connection.execute(Self.writes)
        retention.readIfDue(connection, now: start + .seconds(10))
        #expect(try #require(retention.retainedBytes) > grown)
        let warnings = log.messages.filter { $0.contains("holds back") && $0.contains("slot_retained_warning_bytes") }
        #expect(warnings.count == 1, "one warning per crossing: \(log.messages)")
        #expect(warnings.first?.contains("replication slot \(slot) holds back") == true)

        // A dropped slot has no figure (the gateway makes a new one and flushes when it starts).
        _ = try connection.query("SELECT pg_drop_replication_slot($1)", [slot])
        retention.readIfDue(connection, now: start + .seconds(15))
        #expect(retention.retainedBytes == nil)
    }

    /// `quicksell-cache slots` rows by slot name, split on runs of spaces.
    private static func rows(_ output: String) -> [String: [String]] {
        var rows: [String: [String]] = [:]
        for line in output.split(separator: "\n") where line.hasPrefix("qs_test_") {
            let cells = line.split(whereSeparator: { $0 == " " }).map(String.init)
            // RETAINED is two words ("1.9 MiB"); keep the others at fixed positions.
            if cells.count == 7 {
                rows[cells[0]] = [cells[0], cells[1], cells[2], cells[3] + " " + cells[4], cells[5], cells[6]]
            }
        }
        return rows
    }

    private static func slotExists(_ slot: String, _ connection: PostgresConnection) throws -> Bool {
        try connection.query("SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", [slot]).scalar == "1"
    }
}
