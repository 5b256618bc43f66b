import ArgumentParser

/// The operator CLI: talks to the gateway over RESP (hiredis) for flushes, stats,
/// inspection and warm-ups, and to PostgreSQL for schema migrations and replication slots.
@main
struct QuicksellCache: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quicksell-cache",
        abstract: "Operate the QuickSell cache gateway, its PostgreSQL schema and its replication slots.",
        discussion: """
            Connection (flush, stats, get, warm): --host/--port/--user/--password or --url
            redis://[user:password@]host:port, else QUICKSELL_GATEWAY_URL, QUICKSELL_GATEWAY_HOST,
            _PORT, _USER, _PASSWORD; default 127.0.0.1:6380. migrate and slots connect to PostgreSQL:
            --postgres-url, else QUICKSELL_POSTGRES_URL. Exit status 0 on success, 1 with a
            one-line reason otherwise.

            Example:
              quicksell-cache stats --port 6380
            """,
        subcommands: [FlushCommand.self, StatsCommand.self, GetCommand.self, WarmCommand.self, MigrateCommand.self,
                      SlotsCommand.self]
    )
}
