import ArgumentParser
import Foundation
import Gateway
import Logging

/// `quicksell-gateway`: runs the Redis-compatible caching gateway in the foreground.
@main
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quicksell-gateway",
        abstract: "Redis-compatible read-through caching gateway for QuickSell.",
        discussion: """
            Configuration comes from the YAML file (--config), then QUICKSELL_* environment variables, then these flags; each overrides the one before.

            Examples:
              quicksell-gateway --config config/gateway.yaml
              quicksell-gateway --port 6380 --redis-url redis://127.0.0.1:6390 \\
                  --postgres-url postgresql://postgres@127.0.0.1:5440/quicksell
              quicksell-gateway --config config/gateway.yaml --check-config
              redis-cli -p 6380 GET user:1
            """
    )

    @Option(help: "YAML configuration file (see config/gateway.yaml).")
    var config: String?

    @Option(help: "Address to listen on (server.host).")
    var host: String?

    @Option(help: "Port to listen on; 0 picks a free one and prints it (server.port).")
    var port: String?

    @Option(name: .customLong("redis-url"), help: "Redis holding the cached values; rediss:// for TLS, checked as redis.tls_* say (redis.url).")
    var redisURL: String?

    @Option(name: .customLong("redis-cluster-nodes"),
            help: "Comma-separated seed URLs of a Redis Cluster; replaces --redis-url (redis.cluster_nodes).")
    var redisClusterNodes: String?

    @Option(name: .customLong("postgres-url"),
            help: "PostgreSQL, the source of truth; libpq's parameters such as sslmode=verify-full pass through (postgres.url).")
    var postgresURL: String?

    @Option(help: "Event loop threads; 0 = one per core, one on 1-2 core machines (server.threads).")
    var threads: String?

    @Option(name: .customLong("max-clients"), help: "Most clients at once (server.max_clients).")
    var maxClients: String?

    @Option(name: .customLong("idle-timeout"), help: "Close clients idle this many seconds; 0 = never (server.idle_timeout_seconds).")
    var idleTimeout: String?

    @Option(name: .customLong("requirepass"), help: "Password of the default user (server.requirepass).")
    var requirePass: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (log.level).")
    var logLevel: String?

    @Option(name: .customLong("metrics-port"), help: "HTTP port of /metrics, /healthz and /readyz (metrics.port).")
    var metricsPort: String?

    @Option(name: .customLong("invalidation-source"),
            help: "auto (the default: wal where the server allows it, else notify), notify or wal (invalidation.source).")
    var invalidationSource: String?

    @Option(name: .customLong("replication-slot"),
            help: "This gateway's logical replication slot; one per gateway (invalidation.replication_slot).")
    var replicationSlot: String?

    @Flag(name: .customLong("check-config"), help: "Validate the configuration, print it with passwords masked, and exit.")
    var checkConfig = false

    func run() async throws {
        let configuration: GatewayConfiguration
        do {
            configuration = try await ConfigurationLoader.load(
                file: config, overrides: overrides, environment: ProcessInfo.processInfo.environment)
        } catch {
            Self.failAndExit("\(error)")
        }
        if checkConfig {
            print(configuration.maskedDescription)
            print("configuration OK")
            return
        }
        let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "quicksell.gateway")
        let exposed = flagsWithSecrets
        if !exposed.isEmpty {
            logger.warning("""
                a password was given on the command line (\(exposed.joined(separator: ", "))): every local user can \
                read it in /proc/\(ProcessInfo.processInfo.processIdentifier)/cmdline; give it in the configuration \
                file or a QUICKSELL_* environment variable instead (README, Configuration)
                """)
        }
        let gateway: Gateway
        do {
            // SIGTERM / SIGINT: stop accepting, answer what was read, close the backends, exit 0.
            gateway = try await Gateway.start(
                configuration: configuration, logger: logger, stopsOnSignals: true)
        } catch {
            Self.failAndExit("\(error)")
        }
        // Written unbuffered: supervisors read the port from a pipe.
        let host = configuration.server.host, tlsPort = gateway.server.localTLSPort
        var lines = ""
        if configuration.server.plaintext { lines += "quicksell-gateway listening on \(host):\(gateway.port)\n" }
        if tlsPort > 0 { lines += "quicksell-gateway listening for TLS on \(host):\(tlsPort)\n" }
        if let endpoints = gateway.endpoints {
            lines += "metrics on http://\(configuration.metricsHost):\(endpoints.port)/metrics (health: /healthz, /readyz)\n"
        }
        lines += configuration.server.plaintext
            ? "try: redis-cli -p \(gateway.port) GET user:1\n"
            : "try: redis-cli --tls --cacert CA.pem -p \(tlsPort) GET user:1\n"
        FileHandle.standardOutput.write(Data(lines.utf8))
        try await gateway.waitUntilStopped()
    }

    /// The flags whose value holds a password (readable by every local user in the process's
    /// command line).
    private var flagsWithSecrets: [String] {
        var names: [String] = []
        if let requirePass, !requirePass.isEmpty { names.append("--requirepass") }
        let urls = [("--redis-url", redisURL), ("--postgres-url", postgresURL), ("--redis-cluster-nodes", redisClusterNodes)]
        for case let (flag, value?) in urls where Self.holdsPassword(value) { names.append(flag) }
        return names
    }

    /// `scheme://user:password@host…`, `scheme://:password@host…` or a `password=` parameter,
    /// in any of comma-separated URLs.
    static func holdsPassword(_ urls: String) -> Bool {
        urls.split(separator: ",").contains { url in
            if url.contains("password=") { return true }
            guard let scheme = url.range(of: "://") else { return false }
            let rest = url[scheme.upperBound...]
            guard let at = rest.firstIndex(of: "@") else { return false }
            return rest[..<at].contains(":")
        }
    }

    /// Flags given on the command line, as configuration keys.
    private var overrides: [String: String] {
        let pairs: [(String, String?)] = [
            ("server.host", host), ("server.port", port), ("redis.url", redisURL), ("postgres.url", postgresURL),
            ("server.threads", threads), ("server.max_clients", maxClients),
            ("server.idle_timeout_seconds", idleTimeout), ("server.requirepass", requirePass), ("log.level", logLevel),
            ("metrics.port", metricsPort), ("redis.cluster_nodes", redisClusterNodes),
            ("invalidation.source", invalidationSource), ("invalidation.replication_slot", replicationSlot),
        ]
        var result: [String: String] = [:]
        for (key, value) in pairs { if let value { result[key] = value } }
        return result
    }

    static func failAndExit(_ message: String) -> Never {
        FileHandle.standardError.write(Data("quicksell-gateway: error: \(message)\n".utf8))
        Foundation.exit(1)
    }
}
