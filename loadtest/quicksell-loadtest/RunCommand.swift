import ArgumentParser
import Foundation
import LoadTest

#if canImport(Glibc)
import Glibc
#endif

/// `quicksell-loadtest run`: drives Redis-protocol traffic at a target and reports.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Drive skewed read traffic (and PostgreSQL writes) at a Redis-protocol endpoint and report.",
        discussion: """
            Keys of the seven families are drawn from the ids in PostgreSQL with Zipf popularity. Progress goes to stderr once a second; the report (table) to stdout at the end. Ctrl-C stops the run and still prints the (partial) report. Hit rates: "hit rate (gateway)" is the target's own INFO families counters over the measured phase (authoritative); "value rate (client)" is replies with a value over all replies, which is all a client can see.

            Examples:
              # 30 s of the default mix at the gateway, 50 writes/s, 1% verified
              quicksell-loadtest run --target 127.0.0.1:6380 \\
                --postgres-url postgresql://postgres@127.0.0.1:5440/quicksell \\
                --duration 30 --write-rate 50 --verify 0.01 \\
                --json report.json --plot report.svg
              # the next three read PostgreSQL's URL from $QUICKSELL_POSTGRES_URL
              # hit-only baseline against plain Redis (keys pre-loaded with SET)
              quicksell-loadtest run --target 127.0.0.1:6390 --mode hit-only \\
                --preload --duration 10 --connections 16 --pipeline 8
              # fill rate: every user key once from 50 connections (cold cache)
              quicksell-loadtest run --target 127.0.0.1:6380 --mode miss-only \\
                --mix user=1 --warmup 0 --connections 50 --pipeline 1
              # only users and listings, 100,000 requests, skew 1.2
              quicksell-loadtest run --target 127.0.0.1:6380 \\
                --mix user=1,listing=1 --requests 100000 --zipf 1.2
            """
    )

    @Option(help: "Redis-protocol endpoint HOST:PORT (gateway, Redis, twemproxy); several, comma-separated (e.g. two gateways on one Redis Cluster), share the reader threads and are reported each.")
    var target: String = "127.0.0.1:6380"

    @Option(name: .customLong("postgres-url"), help: "PostgreSQL URL of the seeded data (default: $QUICKSELL_POSTGRES_URL).")
    var postgresURL: String?

    @Option(help: "Measured seconds (after the warm-up).")
    var duration: Double = 10

    @Option(help: "Stop after this many measured requests instead of --duration.")
    var requests: Int?

    @Option(help: "Seconds of traffic before measuring (excluded from the report).")
    var warmup: Double = 2

    @Option(help: "Client connections in total.")
    var connections: Int = 8

    @Option(help: "Reader threads (connections are shared out among them).")
    var threads: Int = 2

    @Option(help: "Requests in flight per connection (pipeline depth).")
    var pipeline: Int = 4

    @Option(help: "Zipf skew of key popularity (0 = uniform).")
    var zipf: Double = 0.99

    @Option(help: "Family weights, e.g. user=25,listing=30,marketplace_listings=15,user_stats=12,user_badges=10,leaderboard:weekly=4,leaderboard:monthly=4 (the default).")
    var mix: String?

    @Option(name: .customLong("write-rate"), help: "PostgreSQL writes per second (0 = none).")
    var writeRate: Double = 0

    @Option(help: "Seed of the key and write sequences.")
    var seed: UInt64 = 1

    @Option(help: "mixed (read-through with writes), hit-only (pre-warm every key, then only reads) or miss-only (every key of the mix requested exactly once, no Zipf: against a cold cache each GET is a distinct miss; the run ends when all were requested).")
    var mode: String = "mixed"

    @Flag(help: "With --mode hit-only: SET every key to a ~400-byte blob first (targets without read-through).")
    var preload = false

    @Option(help: "Share of row-family reads checked against PostgreSQL by the staleness verifier (0 = off), e.g. 0.01.")
    var verify: Double = 0

    @Option(name: .customLong("verify-patience"), help: "Seconds a sampled read may keep differing from PostgreSQL (re-checked every second) before it counts as stale: the invalidation lag allowed (a soak with bulk writes raises it).")
    var verifyPatience: Double = 3

    @Option(name: .customLong("max-keys"), help: "Use at most this many user ids and listing ids.")
    var maxKeys: Int?

    @Option(help: "Write the report as JSON to FILE.")
    var json: String?

    @Option(help: "Draw throughput, hit rate and p99 over time into FILE.svg.")
    var plot: String?

    @Flag(help: "No progress lines.")
    var quiet = false

    func validate() throws {
        _ = try makeOptions(postgresURL: "unused")
    }

    private func makeOptions(postgresURL: String) throws -> RunOptions {
        do {
            let targets = try RunOptions.parseTargets(target)
            let (host, port) = (targets[0].host, targets[0].port)
            guard let runMode = RunOptions.Mode(rawValue: mode) else {
                throw ValidationError("--mode must be mixed, hit-only or miss-only, got '\(mode)'")
            }
            var options = RunOptions(
                host: host, port: port, postgresURL: postgresURL, durationSeconds: duration, requests: requests,
                warmupSeconds: warmup, connections: connections, threads: threads, pipelineDepth: pipeline,
                zipfSkew: zipf, mix: try mix.map(RunOptions.parseMix) ?? RunOptions.defaultMix, writeRate: writeRate,
                seed: seed, mode: runMode, preload: preload, verifyFraction: verify, progress: !quiet,
                maxKeysPerSet: maxKeys)
            options.extraTargets = Array(targets.dropFirst())
            options.verifyPatienceSeconds = verifyPatience
            try options.validate()
            return options
        } catch let error as RunError {
            throw ValidationError(error.description)
        }
    }

    func run() throws {
        guard let url = postgresURL ?? ProcessInfo.processInfo.environment["QUICKSELL_POSTGRES_URL"], !url.isEmpty else {
            throw CommandFailure(message: "no PostgreSQL URL: pass --postgres-url or set QUICKSELL_POSTGRES_URL")
        }
        let options = try makeOptions(postgresURL: url)
        // A parent (a test runner, a supervisor) may have left SIGINT blocked or ignored in
        // the mask we inherit: unblock it before any thread exists, then handle it.
        var interruptOnly = sigset_t()
        sigemptyset(&interruptOnly)
        sigaddset(&interruptOnly, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &interruptOnly, nil)
        signal(SIGINT) { _ in interruptFlag.raise() }
        let runner = LoadRunner(options: options, interrupt: interruptFlag) { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
        let report: RunReport
        do {
            report = try runner.run()
        } catch {
            throw CommandFailure(message: error.description)
        }
        FileHandle.standardOutput.write(Data(ReportTable.render(report).utf8))
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            do {
                try encoder.encode(report).write(to: URL(fileURLWithPath: json))
            } catch {
                throw CommandFailure(message: "cannot write --json \(json): \(error.localizedDescription)")
            }
        }
        if let plot {
            let svg = SVGPlot.render(report.timeline, title: "quicksell-loadtest \(report.target) (\(report.mode.rawValue))")
            do {
                try svg.write(toFile: plot, atomically: true, encoding: .utf8)
            } catch {
                throw CommandFailure(message: "cannot write --plot \(plot): \(error.localizedDescription)")
            }
        }
        if report.interrupted { throw ExitCode(130) }
    }
}
