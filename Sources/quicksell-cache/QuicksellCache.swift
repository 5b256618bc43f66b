import ArgumentParser

/// The operator CLI: schema migrations now; flushes, stats and inspection to come.
@main
struct QuicksellCache: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quicksell-cache",
        abstract: "Operate the QuickSell cache gateway and its PostgreSQL schema.",
        subcommands: [MigrateCommand.self]
    )
}
