import ArgumentParser
import CacheModel
import Foundation

/// `quicksell-cache stats`: hit rates, fills, invalidations and health at a glance.
struct StatsCommand: ParsableCommand, GatewaySubcommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show hits, misses, hit rate, fills, fill latency, invalidations and lag per family, and health.",
        discussion: """
            Health covers Redis (PING), PostgreSQL (SELECT 1) and the invalidation listener. --watch redraws every N seconds until Ctrl-C (or --count refreshes); --json prints the gateway's QUICKSELL STATS document as is.

            Examples:
              quicksell-cache stats
              quicksell-cache stats --watch 2
              quicksell-cache stats --json | jq '.families[] | {name, hit_rate}'
            """
    )

    @OptionGroup(title: "Connection options") var connection: ConnectionOptions
    @ParentCommand var parent: QuicksellCache

    @Flag(help: "Print the JSON document instead of the table.")
    var json = false

    @Option(help: "Refresh every SECONDS (1...3600) until interrupted.")
    var watch: Int?

    @Option(help: "With --watch: stop after this many refreshes.")
    var count: Int?

    func validate() throws {
        if let watch, !(1...3600).contains(watch) { throw ValidationError("--watch must be in 1...3600 seconds") }
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
        if count != nil && watch == nil { throw ValidationError("--count needs --watch") }
    }

    func run() throws {
        runReportingErrors {
            let client = try GatewayClient(try address())
            var shown = 0
            while true {
                let document = try fetch(client)
                if json {
                    print(document)
                } else {
                    guard let report = StatsReport(json: document) else {
                        throw CLIError("unreadable QUICKSELL STATS reply from the gateway at \(client.address.display)")
                    }
                    if watch != nil && Terminal.outputIsTerminal { print("\u{1B}[H\u{1B}[2J", terminator: "") }
                    print(StatsTable.render(report, address: client.address.display))
                    if watch != nil { print("") }
                }
                fflush(nil)  // all streams: --watch output appears at once even through a pipe
                shown += 1
                guard let watch, count.map({ shown < $0 }) ?? true else { return }
                Thread.sleep(forTimeInterval: TimeInterval(watch))
            }
        }
    }

    private func fetch(_ client: GatewayClient) throws -> String {
        guard let text = try client.call(["QUICKSELL", "STATS"]).text else {
            throw CLIError("unexpected reply to QUICKSELL STATS from the gateway at \(client.address.display)")
        }
        return text
    }
}
