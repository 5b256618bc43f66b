import CacheModel
import Foundation
import Gateway
import Postgres
import ReadThrough
import Synchronization
import Testing
import TestSupport

/// Read-through against real Redis and PostgreSQL: each family's miss returns what
/// PostgreSQL holds, the second read is a hit, TTLs and negative caching hold, and no
/// secret column ever leaves PostgreSQL.
@Suite struct ReadThroughTests {
    /// Every column of the row as JSON made by PostgreSQL, for field-by-field comparison.
    private func row(_ harness: GatewayHarness, _ sql: String, _ id: Int) throws -> [String: Any] {
        let text = try #require(try harness.database.connect().query(sql, [String(id)]).scalar)
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    private func json(_ reply: RedisTestClient.Reply) throws -> Any {
        let text = try #require(reply.string, "expected a bulk string, got \(reply)")
        return try JSONSerialization.jsonObject(with: Data(text.utf8))
    }

    private func expectSameFields(_ value: [String: Any], _ row: [String: Any], except excluded: Set<String> = []) {
        for (column, expected) in row where !excluded.contains(column) {
            let actual = value[column]
            #expect(actual != nil, "column \(column) missing from the cached value")
            #expect(String(describing: actual ?? "missing") == String(describing: expected), "column \(column) differs")
        }
    }

    @Test func userMissReturnsTheRowWithoutSecretsThenHits() async throws {
        let harness = try await GatewayHarness(label: "rt_user", setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        let client = try harness.client()

        let first = try client.command("GET", "user:1")
        let value = try #require(try json(first) as? [String: Any])
        let expected = try row(harness, "SELECT to_jsonb(u)::text FROM users u WHERE id = $1", 1)
        expectSameFields(value, expected, except: Set(FamilySecrets.user))
        for secret in FamilySecrets.user { #expect(value[secret] == nil, "\(secret) leaked") }
        #expect(!(first.string ?? "").contains("secret"))

        #expect(try client.command("GET", "user:1") == first)
        let counters = try harness.familyCounters(.user)
        #expect(counters["misses"] == 1)
        #expect(counters["hits"] == 1)
        #expect(counters["fills"] == 1)

        let stats = try #require(try client.command("INFO", "stats").string)
        #expect(stats.contains("keyspace_hits:1\r\n"))
        #expect(stats.contains("keyspace_misses:1\r\n"))

        // Redis holds the value under the very key name, with the user TTL.
        let direct = try harness.directRedis()
        #expect(try direct.command("GET", "user:1") == first)
        let ttl = try #require(try direct.command("PTTL", "user:1").integerValue)
        #expect(abs(ttl - 3_600_000) <= 1_000)
    }

    @Test func deletedAndMissingUsersAreAbsentAndNegativelyCached() async throws {
        let harness = try await GatewayHarness(label: "rt_absent", setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        let client = try harness.client()
        for key in ["user:3", "user:4", "user:999"] {
            #expect(try client.command("GET", key) == .null, "\(key) should read as absent")
            #expect(try client.command("GET", key) == .null)
        }
        let counters = try harness.familyCounters(.user)
        #expect(counters["negative_hits"] == 3)
        #expect(counters["absent_fills"] == 3)
        let direct = try harness.directRedis()
        let ttl = try #require(try direct.command("PTTL", "user:999").integerValue)
        #expect(abs(ttl - 60_000) <= 1_000)
        #expect(try client.command("EXISTS", "user:999") == .integer(0))
        #expect(try client.command("TTL", "user:999") == .integer(-2))
        // A suspended user is still a user.
        #expect(try client.command("GET", "user:2").string != nil)
    }

    @Test func listingEmbedsPhotosInDisplayOrder() async throws {
        let harness = try await GatewayHarness(label: "rt_listing", setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        let client = try harness.client()
        let value = try #require(try json(client.command("GET", "listing:10")) as? [String: Any])
        let expected = try row(harness, "SELECT to_jsonb(l)::text FROM listings l WHERE id = $1", 10)
        expectSameFields(value, expected)
        let photos = try #require(value["photos"] as? [[String: Any]])
        #expect(photos.compactMap { $0["id"] as? Int } == [101, 102, 100])
        #expect(try client.command("GET", "listing:11") == .null)
        #expect(try client.command("GET", "listing:10").string != nil)
        #expect(try harness.familyCounters(.listing)["hits"] == 1)
        let ttl = try #require(try harness.directRedis().command("PTTL", "listing:10").integerValue)
        #expect(abs(ttl - 1_800_000) <= 1_000)
    }

    @Test func marketplaceCopiesAreAnArrayOfEveryRow() async throws {
        let harness = try await GatewayHarness(label: "rt_market", setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        let client = try harness.client()
        let copies = try #require(try json(client.command("GET", "marketplace_listings:10")) as? [[String: Any]])
        #expect(copies.compactMap { $0["id"] as? Int } == [30, 31])
        let expected = try row(harness, "SELECT to_jsonb(m)::text FROM marketplace_listings m WHERE id = $1", 30)
        expectSameFields(copies[0], expected)
        #expect(try client.command("GET", "marketplace_listings:12").string == "[]")
        #expect(try client.command("GET", "marketplace_listings:11") == .null)
        let raw = try client.command("GET", "marketplace_listings:10").string ?? ""
        #expect(!raw.contains("token-secret") && !raw.contains("refresh-secret"))
        let ttl = try #require(try harness.directRedis().command("PTTL", "marketplace_listings:10").integerValue)
        #expect(abs(ttl - 900_000) <= 1_000)
        #expect(try harness.familyCounters(.marketplaceListings)["hits"] == 1)
    }

    @Test func userStatsAndBadges() async throws {
        let harness = try await GatewayHarness(label: "rt_stats", setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        let client = try harness.client()
        let stats = try #require(try json(client.command("GET", "user_stats:1")) as? [String: Any])
        let expected = try row(harness, "SELECT to_jsonb(s)::text FROM user_stats s WHERE user_id = $1", 1)
        expectSameFields(stats, expected)
        #expect(try client.command("GET", "user_stats:5") == .null)

        let badges = try #require(try json(client.command("GET", "user_badges:1")) as? [[String: Any]])
        #expect(badges.compactMap { $0["badge_key"] as? String } == ["first_sale", "power_seller"])
        #expect(badges.first?["badge_name"] as? String == "First Sale")
        #expect(badges.last?["badge_tier"] as? String == "special")
        #expect(badges.first?["unlocked_at"] as? String == "2026-01-02T10:00:00")
        #expect(try client.command("GET", "user_badges:5").string == "[]")
        #expect(try client.command("GET", "user_badges:999") == .null)

        _ = try client.command("GET", "user_stats:1")
        _ = try client.command("GET", "user_badges:1")
        #expect(try harness.familyCounters(.userStats)["hits"] == 1)
        #expect(try harness.familyCounters(.userBadges)["hits"] == 1)
        let direct = try harness.directRedis()
        for key in ["user_stats:1", "user_badges:1"] {
            let ttl = try #require(try direct.command("PTTL", key).integerValue)
            #expect(abs(ttl - 3_600_000) <= 1_000, "\(key) TTL \(ttl)")
        }
    }

    @Test func leaderboardsCountCompletedSalesInTheCurrentPeriodOnly() async throws {
        let harness = try await GatewayHarness(label: "rt_leader", setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        let client = try harness.client()
        let weekly = try #require(try json(client.command("GET", "leaderboard:weekly")) as? [[String: Any]])
        let weeklyIDs = weekly.compactMap { $0["user_id"] as? Int }
        // heidi (8): 2 sales, 100.00; alice (1) and ivan (9): 1 sale, 100.00 each, by user id.
        #expect(Array(weeklyIDs.filter { [1, 8, 9].contains($0) }) == [8, 1, 9])
        #expect(!weeklyIDs.contains(5), "a sale one second before the week started counted")
        #expect(!weeklyIDs.contains(2), "a suspended seller is listed")
        #expect(!weeklyIDs.contains(7) || weekly.contains { $0["user_id"] as? Int == 7 && ($0["revenue"] as? Double) != 900 },
                "a pending sale counted")
        #expect(weekly.map { $0["rank"] as? Int } == Array(1...weekly.count).map { Optional($0) })
        let heidi = try #require(weekly.first { $0["user_id"] as? Int == 8 })
        #expect(heidi["username"] as? String == "heidi")
        #expect(heidi["sales"] as? Int == 2)
        // PostgreSQL's exact decimal text survives.
        let raw = try #require(try client.command("GET", "leaderboard:weekly").string)
        #expect(raw.contains("\"sales\": 2, \"revenue\": 100.00, \"user_id\": 8, \"username\": \"heidi\""))

        let monthly = try #require(try json(client.command("GET", "leaderboard:monthly")) as? [[String: Any]])
        let monthlyIDs = monthly.compactMap { $0["user_id"] as? Int }
        #expect(monthlyIDs.contains(6), "a sale one second after the month started is missing")
        #expect(!monthlyIDs.contains(7), "a sale one second before the month started counted")
        #expect(!monthlyIDs.contains(2))

        // The TTL never runs past the end of the period.
        let connection = try harness.database.connect()
        let untilWeekEnd = try connection.query("""
            SELECT extract(epoch FROM date_trunc('week', now() AT TIME ZONE 'UTC') + interval '1 week'
                                      - (now() AT TIME ZONE 'UTC'))::bigint * 1000
            """).scalarInt()
        let ttl = try #require(try harness.directRedis().command("PTTL", "leaderboard:weekly").integerValue)
        #expect(ttl <= min(21_600_000, untilWeekEnd + 1_000))
        #expect(ttl >= min(21_600_000, untilWeekEnd) - 2_000)
    }

    @Test func leaderboardSizeIsConfigurable() async throws {
        var settings = CacheSettings()
        settings.leaderboardSize = 2
        let harness = try await GatewayHarness(label: "rt_leader_size", cache: settings, setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        let weekly = try #require(try json(harness.client().command("GET", "leaderboard:weekly")) as? [[String: Any]])
        #expect(weekly.count == 2)
    }

    @Test func configuredTTLsAndNegativeTTLAreUsed() async throws {
        var settings = CacheSettings()
        settings.ttlSeconds[.user] = 120
        settings.negativeTTLSeconds = 7
        let harness = try await GatewayHarness(label: "rt_ttl", cache: settings, setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        let client = try harness.client()
        _ = try client.command("GET", "user:1")
        _ = try client.command("GET", "user:998")
        let direct = try harness.directRedis()
        // Values are stored just after the reply: wait for them.
        #expect(try await eventually(seconds: TimeBounds.invalidation) { (try direct.command("PTTL", "user:998").integerValue ?? -2) > 0 })
        #expect(abs((try direct.command("PTTL", "user:1").integerValue ?? 0) - 120_000) <= 1_000)
        #expect(abs((try direct.command("PTTL", "user:998").integerValue ?? 0) - 7_000) <= 1_000)
        #expect(abs((try client.command("PTTL", "user:1").integerValue ?? 0) - 120_000) <= 1_000)
        #expect(try client.command("TTL", "user:1") == .integer(120))
    }

    @Test func mgetOfOneHundredColdKeysMakesOneQuery() async throws {
        let harness = try await GatewayHarness(label: "rt_mget") { connection in
            try connection.execute("""
                INSERT INTO users (id, username, email, password_hash)
                SELECT g, 'user' || g, 'user' || g || '@example.com', 'x' FROM generate_series(1, 100) g
                """)
        }
        defer { Task { await harness.stop() } }
        let client = try harness.client()
        let keys = (1...100).map { "user:\($0)" }
        let reply = try client.command(["MGET"] + keys)
        guard case .array(let values) = reply else {
            Issue.record("MGET gave \(reply)")
            return
        }
        #expect(values.count == 100)
        for (index, value) in values.enumerated() {
            let object = try #require(try json(value) as? [String: Any])
            #expect(object["id"] as? Int == index + 1)
        }
        #expect(try harness.familyCounters(.user)["queries"] == 1)
        // Mixed families, hits and misses, absent rows, in order.
        let mixed = try client.command("MGET", "user:1", "user:1000", "user:2", "user:1")
        guard case .array(let items) = mixed else {
            Issue.record("MGET gave \(mixed)")
            return
        }
        #expect(items.count == 4)
        #expect(items[1] == .null)
        #expect(items[0] == items[3])
        #expect(try harness.familyCounters(.user)["queries"] == 2)
    }

    @Test func aThousandConcurrentGetsOfOneColdKeyMakeOneQuery() async throws {
        let gate = Gate()
        let harness = try await GatewayHarness(
            label: "rt_single_flight",
            hooks: FillHooks(afterQuery: { _ in gate.waitUntilOpen(timeoutSeconds: 10) }),
            setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        try harness.database.connect().execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        try harness.database.connect().execute("SELECT pg_stat_statements_reset()")

        // 100 connections, 10 pipelined GETs each, all sent before the fill may finish.
        let clients = try (0..<100).map { _ in try harness.client() }
        for client in clients {
            for _ in 0..<10 { client.append(["GET", "listing:10"]) }
            client.flush()
        }
        try await Task.sleep(for: .milliseconds(300))
        gate.open()
        var replies: [RedisTestClient.Reply] = []
        for client in clients {
            for _ in 0..<10 { replies.append(try client.readReply()) }
        }
        #expect(replies.count == 1_000)
        #expect(Set(replies.map(\.description)).count == 1, "the 1,000 replies differ")
        #expect(replies.first?.string?.contains("\"title\": \"Lamp\"") == true)
        #expect(try harness.familyCounters(.listing)["queries"] == 1)
        let calls = try harness.database.connect().query("""
            SELECT coalesce(sum(calls), 0) FROM pg_stat_statements
            WHERE query LIKE '%JOIN listings l%' AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
            """).scalarInt()
        #expect(calls == 1)
    }

    /// Misses of a family that arrive while its query runs wait for it and leave together in the
    /// next query; only a slow query (over 5 ms) lets a second query of the family start beside it.
    @Test func missesWaitForTheRunningQueryUnlessItIsSlow() async throws {
        let gate = Gate()
        let heldFirst = Mutex(false)
        let harness = try await GatewayHarness(
            label: "rt_parallel",
            hooks: FillHooks(afterQuery: { keys in
                // Holds the first query only (user:1), until the gate opens.
                let holds = heldFirst.withLock { held in
                    defer { held = true }
                    return !held && keys.map(\.name) == ["user:1"]
                }
                if holds { gate.waitUntilOpen(timeoutSeconds: 10) }
            }),
            setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        let held = try harness.client()
        held.append(["GET", "user:1"])
        held.flush()
        try await Task.sleep(for: .milliseconds(50))
        // The first query has run 50 ms: a miss of the same family gets a query of its own.
        let started = Date()
        #expect(try harness.client().command("GET", "user:2").string?.contains("\"id\": 2") == true)
        // The held query holds 10 s: 5 s tells waiting behind it from a slow machine.
        #expect(Date().timeIntervalSince(started) < 5, "user:2 waited behind the held query of user:1")
        gate.open()
        #expect(try held.readReply().string?.contains("\"id\": 1") == true)
        #expect(try harness.familyCounters(.user)["queries"] == 2)
    }

    @Test func invalidKeysUnknownFamiliesAndWritesGetErrorsAndTheConnectionStaysUsable() async throws {
        let harness = try await GatewayHarness(label: "rt_errors", setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        let client = try harness.client()
        for key in ["user:abc", "user:-1", "user:007", "user:0", "user:", "user:99999999999999999999", "user:1 ",
                    "user:1*", "user:1\r\n", "user:1\u{0}", "user:1;DROP TABLE users"] {
            let reply = try client.command("GET", key)
            guard case .error(let message) = reply else {
                Issue.record("\(key.debugDescription) gave \(reply)")
                continue
            }
            #expect(message.hasPrefix("ERR invalid key"), "\(message)")
        }
        for key in ["users:1", "foo", "leaderboard:daily", "*"] {
            let reply = try client.command("GET", key)
            guard case .error(let message) = reply else {
                Issue.record("\(key) gave \(reply)")
                continue
            }
            #expect(message.hasPrefix("ERR unknown key family"), "\(message)")
            #expect(message.contains("user_badges:{id}"))
        }
        for write in [["SET", "user:1", "x"], ["EXPIRE", "user:1", "10"], ["GETDEL", "listing:10"], ["SETEX", "user:1", "5", "x"],
                      ["INCR", "user:1"], ["MSET", "user:1", "a", "user:2", "b"], ["FLUSHALL"]] {
            let reply = try client.command(write)
            guard case .error(let message) = reply else {
                Issue.record("\(write) gave \(reply)")
                continue
            }
            #expect(message.hasPrefix("READONLY"), "\(message)")
            #expect(message.contains("PostgreSQL"))
        }
        #expect(try client.command("GET", "user:1").string != nil)
        #expect(try client.command("PING") == .status("PONG"))
        // Nothing malformed reached PostgreSQL.
        #expect(try harness.familyCounters(.user)["queries"] == 1)
    }

    @Test func existsTypeAndStrlenReadThrough() async throws {
        let harness = try await GatewayHarness(label: "rt_exists", setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        let client = try harness.client()
        #expect(try client.command("EXISTS", "user:1", "user:999", "listing:10", "user:1") == .integer(3))
        #expect(try client.command("TYPE", "user:1") == .status("string"))
        #expect(try client.command("TYPE", "user:999") == .status("none"))
        let length = try client.command("GET", "user:1").string?.utf8.count ?? -1
        #expect(try client.command("STRLEN", "user:1") == .integer(Int64(length)))
        #expect(try client.command("STRLEN", "user:999") == .integer(0))
        #expect(try client.command("TTL", "listing:12") == .integer(-2))
    }
}

enum FamilySecrets {
    static let user = ["password_hash", "google_id", "facebook_id", "apple_id"]
}

extension RedisTestClient.Reply {
    var integerValue: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }
}

/// A one-shot gate a blocked pool thread waits on until the test opens it.
final class Gate: Sendable {
    private let isOpen = Mutex(false)

    func open() { isOpen.withLock { $0 = true } }

    func waitUntilOpen(timeoutSeconds: Double) {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while !isOpen.withLock({ $0 }) && Date() < deadline { usleep(1_000) }
    }
}
