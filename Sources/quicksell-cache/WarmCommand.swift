import ArgumentParser
import Foundation

/// `quicksell-cache warm`: fills a family's most wanted keys before traffic arrives.
struct WarmCommand: ParsableCommand, GatewaySubcommand {
    static let configuration = CommandConfiguration(
        commandName: "warm",
        abstract: "Fill the most-viewed listings, the top users or the leaderboards ahead of traffic.",
        discussion: """
            The gateway ranks the family's ids (listings and marketplace copies by view count, users, user stats and badges by points then revenue; the leaderboards are single keys) with QUICKSELL WARMIDS, and the CLI reads them through the gateway in batches of 100 (MGET), so they are filled by the normal read-through path. A progress bar shows on stderr when it is a terminal.

            Examples:
              quicksell-cache warm --family listing --top 5000
              quicksell-cache warm --family leaderboard
            """
    )

    @OptionGroup(title: "Connection options") var connection: ConnectionOptions
    @ParentCommand var parent: QuicksellCache

    @Option(help: "The family to warm.")
    var family: String

    @Option(help: "How many keys (1...100000).")
    var top = 1_000

    func validate() throws {
        guard (1...100_000).contains(top) else { throw ValidationError("--top must be in 1...100000") }
    }

    func run() throws {
        runReportingErrors {
            let client = try GatewayClient(try address())
            client.setTimeout(seconds: 120)
            let started = Date()
            guard case .array(let items) = try client.call(["QUICKSELL", "WARMIDS", family, String(top)]) else {
                throw CLIError("unexpected reply to QUICKSELL WARMIDS from the gateway at \(client.address.display)")
            }
            let keys = items.compactMap(\.text)
            let bar = ProgressBar(total: keys.count, label: "warming \(family)")
            var present = 0
            for start in stride(from: 0, to: keys.count, by: 100) {
                let batch = Array(keys[start..<min(start + 100, keys.count)])
                guard case .array(let values) = try client.call(["MGET"] + batch) else {
                    throw CLIError("unexpected reply to MGET from the gateway at \(client.address.display)")
                }
                present += values.filter { $0 != .null }.count
                bar.update(start + batch.count)
            }
            bar.finish()
            let elapsed = Terminal.duration(seconds: Date().timeIntervalSince(started))
            print("warmed \(keys.count) key(s) of \(family) at \(client.address.display) in \(elapsed) "
                + "(\(present) present, \(keys.count - present) absent)")
        }
    }
}
