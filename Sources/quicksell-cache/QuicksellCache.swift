import ArgumentParser

/// The operator CLI: talks to the gateway over RESP (hiredis) for flushes, stats,
/// inspection and warm-ups, and to PostgreSQL for schema migrations and replication slots.
@main
struct QuicksellCache: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quicksell-cache",
        abstract: "Operate the QuickSell cache gateway, its PostgreSQL schema, replication slots and data retention.",
        discussion: """
            Connection (flush, stats, get, warm), before or after the subcommand: -h/--host, -p/--port, --user, -a/--password or -u/--url redis://[user:password@]host:port, as redis-cli has them; else QUICKSELL_GATEWAY_URL, QUICKSELL_GATEWAY_HOST, _PORT, _USER, _PASSWORD; default 127.0.0.1:6380. migrate, slots and retention connect to PostgreSQL: --postgres-url, else QUICKSELL_POSTGRES_URL. Exit status 0 on success, 1 with a one-line reason otherwise.

            Examples:
              quicksell-cache stats --port 6380
              quicksell-cache -p 6380 stats
            """,
        subcommands: [FlushCommand.self, StatsCommand.self, GetCommand.self, WarmCommand.self, MigrateCommand.self,
                      SlotsCommand.self, RetentionCommand.self],
        helpNames: [.long]
    )

    /// Connection options given before the subcommand; each gateway subcommand merges them under its own.
    @OptionGroup(title: "Connection options") var connection: ConnectionOptions
}

/// A subcommand that talks to the gateway, with connection options on either side of its name.
protocol GatewaySubcommand {
    var parent: QuicksellCache { get }
    var connection: ConnectionOptions { get }
}

extension GatewaySubcommand {
    /// The gateway's address: the subcommand's own flags, then those before it, then the environment.
    func address() throws -> GatewayAddress {
        try connection.over(parent.connection).resolve()
    }
}

extension QuicksellCache {
    /// migrate and slots talk to PostgreSQL: connection options before them would be ignored, so
    /// they are refused instead.
    func refuseGatewayOptions(_ subcommand: String) throws {
        let given = [("--host", connection.host), ("--port", connection.port.map(String.init)), ("--user", connection.user),
                     ("--password", connection.password), ("--url", connection.url)].filter { $0.1 != nil }.map(\.0)
        guard given.isEmpty else {
            throw ValidationError("\(subcommand) talks to PostgreSQL (--postgres-url), not to the gateway: "
                + "\(given.joined(separator: ", ")) would be ignored")
        }
    }
}
