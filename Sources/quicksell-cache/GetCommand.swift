import ArgumentParser
import Foundation

/// `quicksell-cache get KEY`: a cached value as an operator wants to see it.
struct GetCommand: ParsableCommand, GatewaySubcommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Show a key's value pretty-printed, its remaining TTL and whether it was a cache hit.",
        discussion: """
            Reads through the gateway like any client (a miss is filled from PostgreSQL and cached), so it counts in the hit and miss statistics.

            Examples:
              quicksell-cache get listing:42
              quicksell-cache get leaderboard:weekly --json
            """
    )

    @OptionGroup(title: "Connection options") var connection: ConnectionOptions
    @ParentCommand var parent: QuicksellCache

    @Flag(help: "Print one JSON object: key, cache (hit or miss), ttl_ms and value.")
    var json = false

    @Argument(help: "The key (e.g. user:1, listing:42, leaderboard:weekly).")
    var key: String

    func run() throws {
        runReportingErrors {
            let client = try GatewayClient(try address())
            guard let fields = try client.call(["QUICKSELL", "GET", key]).fields,
                  case .integer(let ttl) = fields["ttl_ms"], let cache = fields["cache"]?.text else {
                throw CLIError("unexpected reply to QUICKSELL GET from the gateway at \(client.address.display)")
            }
            let value = fields["value"]?.text
            if json {
                let keyJSON = Self.jsonString(key)
                print("{\"cache\":\"\(cache)\",\"key\":\(keyJSON),\"ttl_ms\":\(ttl),\"value\":\(value ?? "null")}")
                return
            }
            print("\(key)  \(cache)  ttl \(Self.ttl(ttl))")
            print(value.map(Self.pretty) ?? "(absent: no such row; cached as absent)")
        }
    }

    static func pretty(_ text: String) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]),
              let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys,
                                                                                      .fragmentsAllowed, .withoutEscapingSlashes])
        else { return text }
        return String(decoding: data, as: UTF8.self)
    }

    static func jsonString(_ text: String) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: text, options: [.fragmentsAllowed]) else { return "\"\"" }
        return String(decoding: data, as: UTF8.self)
    }

    /// `29m 59s`, `1h 0m 0s`, `not cached`.
    static func ttl(_ milliseconds: Int64) -> String {
        guard milliseconds >= 0 else { return "not cached" }
        let seconds = milliseconds / 1000
        if seconds >= 3600 { return "\(seconds / 3600)h \(seconds % 3600 / 60)m \(seconds % 60)s" }
        if seconds >= 60 { return "\(seconds / 60)m \(seconds % 60)s" }
        return "\(seconds)s"
    }
}
