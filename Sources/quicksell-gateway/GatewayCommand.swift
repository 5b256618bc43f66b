import ArgumentParser
import Foundation
import Gateway
import Logging
import NIOCore
import RESP

/// `quicksell-gateway`: runs the Redis-compatible caching gateway in the foreground.
@main
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quicksell-gateway",
        abstract: "Redis-compatible read-through caching gateway for QuickSell.",
        discussion: """
            Example:
              quicksell-gateway --host 127.0.0.1 --port 6380
              redis-cli -p 6380 PING
            """
    )

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one and prints it).")
    var port = 6380

    @Option(name: .customLong("threads"), help: "Event loop threads (default: one per core).")
    var threads: Int?

    @Option(name: .customLong("max-clients"), help: "Clients beyond this get '-ERR max number of clients reached'.")
    var maxClients = 10_000

    @Option(name: .customLong("idle-timeout"), help: "Close clients idle this many seconds (0 = never).")
    var idleTimeout = 0

    @Option(name: .customLong("requirepass"),
            help: "Password of the default user (default: $QUICKSELL_REQUIREPASS; none = no authentication).")
    var requirePass: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0...65535, got \(port)") }
        guard maxClients > 0 else { throw ValidationError("--max-clients must be a positive integer, got \(maxClients)") }
        guard idleTimeout >= 0 else { throw ValidationError("--idle-timeout must be 0 or more seconds, got \(idleTimeout)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical; got '\(logLevel)'")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "quicksell.gateway")
        let password = requirePass ?? ProcessInfo.processInfo.environment["QUICKSELL_REQUIREPASS"]
        let configuration = ServerConfiguration(
            host: host,
            port: port,
            eventLoopThreads: threads ?? System.coreCount,
            maxClients: maxClients,
            idleTimeoutSeconds: idleTimeout,
            users: UserDirectory(requirePass: password.flatMap { $0.isEmpty ? nil : $0 }))

        let server: GatewayServer
        do {
            server = try await GatewayServer.start(configuration: configuration, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("quicksell-gateway: error: \(error)\n".utf8))
            throw ExitCode.failure
        }
        print("quicksell-gateway listening on \(host):\(server.localPort)")
        let signals = SignalWatcher(signals: [SIGINT, SIGTERM]) { signal in
            logger.info("shutting down", metadata: ["signal": "\(signal)"])
            Task { await server.shutdown() }
        }
        try await server.waitUntilClosed()
        signals.cancel()
    }
}

