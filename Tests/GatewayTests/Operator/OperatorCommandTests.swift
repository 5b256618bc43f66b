import CacheModel
import Foundation
import Gateway
import Testing
import TestSupport

/// The gateway's side of operations: `QUICKSELL …` admin commands, `DEL`/`UNLINK` of
/// family keys, and roles (admin vs read-only users).
@Suite struct OperatorCommandTests {
    @Test func quicksellCommandsAreListedAndHelpful() async throws {
        let harness = try await GatewayHarness(label: "op_help", setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        let client = try harness.client()
        guard case .array(let help) = try client.command("QUICKSELL", "HELP") else { throw TestFailure("no help") }
        let lines = help.compactMap { if case .status(let line) = $0 { return line } else { return nil } }
        #expect(lines.contains { $0.hasPrefix("FLUSHFAMILY") })
        #expect(lines.contains { $0.contains("leaderboard:weekly") })
        let docs = try client.command("COMMAND", "DOCS", "quicksell")
        for sub in ["quicksell|flush", "quicksell|flushfamily", "quicksell|flushall", "quicksell|stats", "quicksell|get",
                    "quicksell|warm"] {
            #expect(docs.description.contains(sub), "\(sub) missing from COMMAND DOCS")
        }
        guard case .error(let unknown) = try client.command("QUICKSELL", "NOPE") else { throw TestFailure("accepted NOPE") }
        #expect(unknown.hasPrefix("ERR unknown subcommand 'NOPE'. Try QUICKSELL HELP."))
        guard case .error(let family) = try client.command("QUICKSELL", "FLUSHFAMILY", "users") else {
            throw TestFailure("accepted family users")
        }
        #expect(family == "ERR unknown family 'users': valid families are user, listing, marketplace_listings, user_stats, "
            + "user_badges, leaderboard:weekly, leaderboard:monthly, leaderboard")
    }

    @Test func delAndUnlinkInvalidateFamilyKeys() async throws {
        let harness = try await GatewayHarness(label: "op_del", setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        let client = try harness.client()
        let redis = try harness.directRedis()
        #expect(try client.command("GET", "user:1").string != nil)
        #expect(try client.command("GET", "listing:10").string != nil)
        // The fill stores in the background: wait for it.
        #expect(try await eventually(timeout: .seconds(TimeBounds.recovery)) { try redis.command("EXISTS", "user:1", "listing:10") == .integer(2) })
        #expect(try client.command("DEL", "user:1", "user:2") == .integer(1))
        #expect(try client.command("UNLINK", "listing:10") == .integer(1))
        #expect(try redis.command("EXISTS", "user:1", "listing:10") == .integer(0))
        guard case .error(let message) = try client.command("DEL", "user:1", "session:9") else {
            throw TestFailure("DEL of a non-family key accepted")
        }
        #expect(message.hasPrefix("ERR unknown key family for 'session:9'"))
        let misses = try harness.familyCounters(.user)["misses"] ?? 0
        #expect(try client.command("GET", "user:1").string?.contains("alice") == true)
        #expect(try harness.familyCounters(.user)["misses"] == misses + 1)
        guard case .error(let readOnly) = try client.command("SET", "user:1", "x") else { throw TestFailure("SET accepted") }
        #expect(readOnly.hasPrefix("READONLY"))
    }

    /// A Redis shared with other applications keeps their keys: family flushes remove only
    /// keys that parse as the family's canonical keys.
    @Test func familyFlushesLeaveKeysThatAreNotFamilyKeys() async throws {
        let harness = try await GatewayHarness(label: "op_planted", setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        let client = try harness.client()
        let redis = try harness.directRedis()
        let planted = ["user:canary", "user:1:extra", "user:session:abc", "user:01", "user:-1",
                       "user:99999999999999999999", "listing:draft", "leaderboard:weekly:old"]
        for key in planted { _ = try redis.command("SET", key, "theirs") }
        _ = try client.command("MGET", "user:1", "user:2", "listing:10")
        #expect(try await eventually(timeout: .seconds(TimeBounds.recovery)) {
            try redis.command("EXISTS", "user:1", "user:2", "listing:10") == .integer(3)
        })
        #expect(try client.command("QUICKSELL", "FLUSHFAMILY", "user") == .integer(2))
        #expect(try redis.command("EXISTS", "user:1", "user:2") == .integer(0))
        #expect(try client.command("QUICKSELL", "FLUSHALL") == .integer(1))
        #expect(try redis.command("EXISTS", "listing:10") == .integer(0))
        #expect(try redis.command(["EXISTS"] + planted) == .integer(Int64(planted.count)), "a flush removed another application's key")
    }

    @Test func readOnlyUsersGetNoPermOnAdminCommands() async throws {
        let users = UserDirectory(requirePass: "rootpw", users: [("admin", "secret", .admin), ("api", "apipass", .read)])
        let harness = try await GatewayHarness(label: "op_roles", users: users, setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        let api = try harness.client()
        #expect(try api.command("QUICKSELL", "STATS") == .error("NOAUTH Authentication required."))
        #expect(try api.command("AUTH", "api", "apipass") == .status("OK"))
        #expect(try api.command("GET", "user:1").string?.contains("alice") == true)
        #expect(try api.command("QUICKSELL", "FLUSH", "user:1")
            == .error("NOPERM this user has no permissions to run the 'quicksell|flush' command"))
        #expect(try api.command("DEL", "user:1") == .error("NOPERM this user has no permissions to run the 'del' command"))
        #expect(try api.command("UNLINK", "user:1") == .error("NOPERM this user has no permissions to run the 'unlink' command"))
        #expect(try api.command("QUICKSELL", "FLUSHALL")
            == .error("NOPERM this user has no permissions to run the 'quicksell|flushall' command"))
        if case .array = try api.command("QUICKSELL", "HELP") {} else { Issue.record("HELP refused to a read-only user") }
        #expect(try harness.directRedis().command("EXISTS", "user:1") == .integer(1))
        for (user, password) in [("admin", "secret"), ("default", "rootpw")] {
            let admin = try harness.client()
            #expect(try admin.command("AUTH", user, password) == .status("OK"))
            #expect(try admin.command("QUICKSELL", "FLUSH", "user:1") == .integer(user == "admin" ? 1 : 0))
        }
    }

    @Test func usersAreConfiguredWithRoles() async throws {
        let configuration = try await ConfigurationLoader.load(
            file: nil, environment: ["QUICKSELL_SERVER_USERS": "admin:s3:cr:et:admin, api:apipass:read",
                                     "QUICKSELL_SERVER_REQUIREPASS": "rootpw"])
        let users = configuration.server.users
        #expect(users.verify(user: "admin", password: "s3:cr:et"))
        #expect(users.verify(user: "api", password: "apipass"))
        #expect(users.isAdmin("admin") && users.isAdmin("default") && !users.isAdmin("api") && !users.isAdmin(nil))
        #expect(UserDirectory().isAdmin(nil))
        #expect(configuration.maskedDescription.contains("server.users: admin:admin,api:read,default:admin"))
        #expect(!configuration.maskedDescription.contains("apipass"))
        do {
            _ = try await ConfigurationLoader.load(file: nil, environment: ["QUICKSELL_SERVER_USERS": "api:apipass:root"])
            Issue.record("a bad role was accepted")
        } catch {
            #expect("\(error)".contains("server.users") && "\(error)".contains("'api'") && !"\(error)".contains("apipass"))
        }
    }

    @Test func statsAndGetAnswerAsDocumented() async throws {
        let harness = try await GatewayHarness(label: "op_stats", setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        try await harness.waitForListener()
        let client = try harness.client()
        guard case .array(let first) = try client.command("QUICKSELL", "GET", "listing:10") else { throw TestFailure("GET") }
        #expect(first.count == 8)
        #expect(first[7] == .string("miss"))
        guard case .array(let second) = try client.command("QUICKSELL", "GET", "listing:10"),
              case .integer(let ttl) = second[5] else { throw TestFailure("GET") }
        #expect(second[7] == .string("hit"))
        #expect(ttl > 1_700_000 && ttl <= 1_800_000)
        #expect(second[3].string?.contains("Lamp") == true)
        guard let text = try client.command("QUICKSELL", "STATS").string,
              let json = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
              let health = json["health"] as? [String: Any], let families = json["families"] as? [[String: Any]]
        else { throw TestFailure("STATS is not the documented JSON") }
        #expect(health["redis"] as? String == "ok")
        #expect(health["postgres"] as? String == "ok")
        #expect(health["listener"] as? String == "ok")
        let listing = families.first { $0["name"] as? String == "listing" }
        #expect(listing?["hits"] as? Int == 1)
        #expect(listing?["misses"] as? Int == 1)
        #expect(listing?["hit_rate"] as? Double == 0.5)
    }
}
