import CacheModel
import Foundation
import Gateway
import Invalidation
import Testing
import TestSupport

/// The `quicksell-cache` executable against a real gateway, Redis and PostgreSQL: every
/// subcommand, its output and its exit status.
@Suite struct OperatorCLITests {
    @Test func flushKeyMakesTheNextReadAMissWithCurrentData() async throws {
        // Invalidation off: the row changes under a cached value, and only the flush helps.
        let harness = try await GatewayHarness(label: "cli_flush_key", invalidation: InvalidationSettings(enabled: false),
                                               setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        let client = try harness.client()
        #expect(try client.command("GET", "listing:10").string?.contains("\"Lamp\"") == true)
        try harness.database.connect().execute("UPDATE listings SET title = 'Brass lamp' WHERE id = 10")
        #expect(try client.command("GET", "listing:10").string?.contains("\"Lamp\"") == true)  // stale, as expected
        let misses = try harness.familyCounters(.listing)["misses"] ?? 0

        let result = try await CacheCLI.run(harness, ["flush", "listing:10", "user:1"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "invalidated 2 key(s) at 127.0.0.1:\(harness.port); 1 were cached\n")

        let fresh = try client.command("GET", "listing:10").string
        #expect(fresh?.contains("\"Brass lamp\"") == true)
        #expect(try harness.familyCounters(.listing)["misses"] == misses + 1)
        let title = try harness.database.connect().query("SELECT title FROM listings WHERE id = 10").rows.first?.first
        #expect(title == "Brass lamp")
    }

    @Test func flushFamilyIdsAndAll() async throws {
        let harness = try await GatewayHarness(label: "cli_flush_family", setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        let client = try harness.client()
        let redis = try harness.directRedis()
        for key in ["user:1", "user:2", "user:5", "user_stats:1", "listing:10", "leaderboard:weekly"] {
            _ = try client.command("GET", key)
        }
        var result = try await CacheCLI.run(harness, ["flush", "--family", "user", "--id", "1", "--id", "9"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("invalidated 2 key(s) of family user") && result.stdout.contains("1 were cached"))
        #expect(try redis.command("EXISTS", "user:1", "user:2") == .integer(1))

        result = try await CacheCLI.run(harness, ["flush", "--family", "user"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("flushed family user at 127.0.0.1:\(harness.port): 2 keys removed in "))
        #expect(try redis.command("EXISTS", "user:2", "user:5") == .integer(0))
        #expect(try redis.command("EXISTS", "user_stats:1", "listing:10", "leaderboard:weekly") == .integer(3))
        #expect(try harness.client().command("INFO", "operator").string?.contains("last_flush_keys:2") == true)

        // Not a terminal: no question asked (stdin is a pipe).
        result = try await CacheCLI.run(harness, ["flush", "--all"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("flushed every family") && result.stdout.contains(": 3 keys removed"))
        #expect(try redis.command("EXISTS", "user_stats:1", "listing:10", "leaderboard:weekly") == .integer(0))
        result = try await CacheCLI.run(harness, ["flush", "--all", "--yes"])
        #expect(result.status == 0 && result.stdout.contains(": 0 keys removed"))

        result = try await CacheCLI.run(harness, ["flush", "--family", "leaderboards", "--id", "3"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("leaderboards have no ids"))
        result = try await CacheCLI.run(harness, ["flush"])
        #expect(result.status != 0 && result.stderr.contains("exactly one"))
    }

    @Test func statsTableJSONAndWatch() async throws {
        let harness = try await GatewayHarness(label: "cli_stats", setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        try await harness.waitForListener()
        let client = try harness.client()
        for _ in 0..<3 { _ = try client.command("GET", "listing:10") }
        var result = try await CacheCLI.run(harness, ["stats"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("health  redis ok  postgres ok  listener ok"))
        let header = lines.first { $0.hasPrefix("FAMILY") }
        #expect(header?.contains("HIT RATE") == true && header?.contains("LAG P99") == true)
        let listing = lines.first { $0.hasPrefix("listing ") }?.split(separator: " ").map(String.init)
        #expect(listing?[1] == "2" && listing?[2] == "1" && listing?[3] == "66.7%", "\(lines)")
        // Columns line up: every table row is as wide as the header.
        let table = lines.drop { !$0.hasPrefix("FAMILY") }.prefix(KeyFamily.allCases.count + 2)
        #expect(Set(table.map(\.count)).count == 1, "\(table)")

        result = try await CacheCLI.run(harness, ["stats", "--json"])
        #expect(result.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect((json?["health"] as? [String: Any])?["postgres"] as? String == "ok")

        result = try await CacheCLI.run(harness, ["stats", "--watch", "1", "--count", "2"])
        #expect(result.status == 0)
        #expect(result.stdout.components(separatedBy: "FAMILY").count == 3)
    }

    @Test func getPrettyPrintsWithTTLAndHit() async throws {
        let harness = try await GatewayHarness(label: "cli_get", setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        var result = try await CacheCLI.run(harness, ["get", "listing:10"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("listing:10  miss  ttl 29m 5") || result.stdout.hasPrefix("listing:10  miss  ttl 30m 0s"),
                "\(result.stdout)")
        #expect(result.stdout.contains("\n  \"title\" : \"Lamp\""), "\(result.stdout)")
        result = try await CacheCLI.run(harness, ["get", "listing:10", "--json"])
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(json?["cache"] as? String == "hit")
        #expect((json?["value"] as? [String: Any])?["title"] as? String == "Lamp")
        #expect((json?["ttl_ms"] as? Int ?? 0) > 1_700_000)
        result = try await CacheCLI.run(harness, ["get", "user:999"])
        #expect(result.status == 0 && result.stdout.contains("(absent"))
        result = try await CacheCLI.run(harness, ["get", "session:1"])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("quicksell-cache: error: unknown key family for 'session:1'"))
    }

    @Test func warmFillsTheTopKeys() async throws {
        let harness = try await GatewayHarness(label: "cli_warm", setUp: { connection in
            try Fixtures.load(connection)
            try connection.execute("UPDATE listings SET view_count = id WHERE id IN (10, 12, 51)")
        })
        defer { Task { await harness.stop() } }
        let redis = try harness.directRedis()
        var result = try await CacheCLI.run(harness, ["warm", "--family", "listing", "--top", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("warmed 2 key(s) of listing"), "\(result.stdout)")
        #expect(try redis.command("EXISTS", "listing:51", "listing:12") == .integer(2))
        #expect(try redis.command("EXISTS", "listing:10") == .integer(0))
        result = try await CacheCLI.run(harness, ["warm", "--family", "leaderboard"])
        #expect(result.status == 0 && result.stdout.hasPrefix("warmed 2 key(s) of leaderboard"))
        #expect(try redis.command("EXISTS", "leaderboard:weekly", "leaderboard:monthly") == .integer(2))
        result = try await CacheCLI.run(harness, ["warm", "--family", "user_stats", "--top", "3"])
        #expect(result.status == 0 && result.stdout.contains("warmed 3 key(s)"))
        // The gateway's own warm-up does the same in one command.
        #expect(try harness.client().command("QUICKSELL", "WARM", "marketplace_listings", "5") == .integer(5))
    }

    @Test func failuresExitNonZeroWithOneLine() async throws {
        let users = UserDirectory(requirePass: nil, users: [("admin", "secret", .admin), ("api", "apipass", .read)])
        let harness = try await GatewayHarness(label: "cli_fail", users: users, setUp: Fixtures.load)
        defer { Task { await harness.stop() } }

        func expectFailure(_ result: SubprocessResult, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(result.status == 1, sourceLocation: sourceLocation)
            #expect(result.stdout.isEmpty, sourceLocation: sourceLocation)
            #expect(result.stderr == "quicksell-cache: error: \(message)\n", sourceLocation: sourceLocation)
        }
        // Unreachable: a port nobody listens on (bound and closed right away).
        let closedPort = try freePort()
        expectFailure(try await CacheCLI.run(["stats", "--port", String(closedPort)]),
                      "cannot connect to the gateway at 127.0.0.1:\(closedPort): Connection refused")
        expectFailure(try await CacheCLI.run(harness, ["stats"]),
                      "the gateway at 127.0.0.1:\(harness.port) requires authentication: pass --password (and --user), "
                        + "--url or QUICKSELL_GATEWAY_PASSWORD")
        expectFailure(try await CacheCLI.run(harness, ["stats", "--user", "admin", "--password", "wrong"]),
                      "authentication to the gateway at 127.0.0.1:\(harness.port) as 'admin' failed: "
                        + "WRONGPASS invalid username-password pair or user is disabled.")
        expectFailure(try await CacheCLI.run(harness, ["flush", "user:1", "--user", "api", "--password", "apipass"]),
                      "NOPERM this user has no permissions to run the 'quicksell|flush' command")
        expectFailure(try await CacheCLI.run(harness, ["flush", "--family", "users", "--user", "admin", "--password", "secret"]),
                      "unknown family 'users': valid families are user, listing, marketplace_listings, user_stats, "
                        + "user_badges, leaderboard:weekly, leaderboard:monthly, leaderboard")
        expectFailure(try await CacheCLI.run(["warm", "--family", "nope", "--url", "redis://admin:secret@127.0.0.1:\(harness.port)"]),
                      "unknown family 'nope': valid families are user, listing, marketplace_listings, user_stats, "
                        + "user_badges, leaderboard:weekly, leaderboard:monthly, leaderboard")

        // The environment supplies what the flags do not.
        let fromEnvironment = try await CacheCLI.run(["get", "user:1"], environment: [
            "QUICKSELL_GATEWAY_URL": "redis://127.0.0.1:1", "QUICKSELL_GATEWAY_PORT": String(harness.port),
            "QUICKSELL_GATEWAY_USER": "admin", "QUICKSELL_GATEWAY_PASSWORD": "secret"])
        #expect(fromEnvironment.status == 0, "\(fromEnvironment.stderr)")
        #expect(fromEnvironment.stdout.contains("\"username\" : \"alice\""))
    }

    @Test func everySubcommandsHelpShowsAnExample() async throws {
        for subcommand in ["flush", "stats", "get", "warm", "migrate", "slots", "retention run"] {
            let result = try await CacheCLI.run(subcommand.split(separator: " ").map(String.init) + ["--help"])
            #expect(result.status == 0)
            #expect(result.stdout.contains("Example"), "\(subcommand) --help has no example")
            #expect(result.stdout.contains("quicksell-cache \(subcommand)") || subcommand == "flush")
        }
        let top = try await CacheCLI.run(["--help"])
        for subcommand in ["flush", "stats", "get", "warm", "migrate", "slots", "retention"] { #expect(top.stdout.contains(subcommand)) }
    }
}

/// A loopback port with nothing listening on it.
func freePort() throws -> Int {
    let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
            bind(socket, pointer, length) == 0 && getsockname(socket, pointer, &length) == 0
        }
    }
    guard bound else { throw TestFailure("cannot bind a loopback socket") }
    return Int(UInt16(bigEndian: address.sin_port))
}
