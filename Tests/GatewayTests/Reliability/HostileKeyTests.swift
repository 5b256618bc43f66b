import CacheModel
import Foundation
import Gateway
import Testing
import TestSupport

/// Key names built to attack PostgreSQL or Redis (globs, CRLF, NUL, huge ids, SQL) are
/// refused with an error before any query: no family's query counter moves.
@Suite(.timeLimit(.minutes(1))) struct HostileKeyTests {
    static let hostileIDs = [
        "*", "?", "[1-9]", "1*", "1?", "[1]", "1\\*", "\r\n", "1\r\nFLUSHALL\r\n", "1\n", "1\r", "\u{0}", "1\u{0}",
        "\u{0}1", "9223372036854775808", "99999999999999999999999999", String(repeating: "9", count: 10_000), "-1", "0",
        "01", "+1", "1e3", "0x1", "1.0", " 1", "1 ", "1;DROP TABLE users", "1' OR '1'='1", "1 OR 1=1", "1--",
        "1/*", "1)", "$1", "{1}", "1,2", "１", "1:2",
    ]

    @Test func hostileKeyNamesNeverReachPostgreSQL() async throws {
        let harness = try await GatewayHarness(label: "hostile_keys", setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        let client = try harness.client()
        var keys: [String] = []
        for family in ["user", "listing", "marketplace_listings", "user_stats", "user_badges"] {
            keys += Self.hostileIDs.map { "\(family):\($0)" }
        }
        keys += ["leaderboard:weekly*", "leaderboard:*", "leaderboard:weekly\r\n", "leaderboard:weekly\u{0}",
                 "USER:1", "user :1", "*", "user:*", "", String(repeating: "x", count: 100_000)]
        var accepted: [String] = []
        for key in keys {
            for command in [["GET", key], ["MGET", "user:1", key], ["EXISTS", key], ["STRLEN", key]] {
                guard case .error(let message) = try client.command(command), message.hasPrefix("ERR") else {
                    accepted.append("\(command[0]) \(key.prefix(40).debugDescription)")
                    continue
                }
            }
        }
        #expect(accepted.isEmpty, "accepted: \(accepted.prefix(10))")
        var queries = 0
        for family in KeyFamily.allCases { queries += try harness.familyCounters(family)["queries"] ?? 0 }
        #expect(queries == 0, "\(queries) queries reached PostgreSQL")
        // The connection is still usable afterwards.
        #expect(try client.command("GET", "user:1").string?.contains("alice") == true)
        print("hostile keys: \(keys.count) keys x 4 commands refused, queries=\(queries)")
    }
}
