/// The transaction commands (`MULTI` … `EXEC` over the read commands) and the names of the
/// writes refused as they are outside a transaction.
extension CommandTable {
    static let transactions: [CommandSpec] = [
        CommandSpec("multi", arity: 1, flags: ["noscript", "loading", "stale", "fast", "allow_busy"], group: "transactions",
                    summary: "Starts a transaction.", since: "1.2.0"),
        CommandSpec("exec", arity: 1, flags: ["noscript", "loading", "stale", "skip_slowlog"], group: "transactions",
                    summary: "Executes all commands in a transaction.", since: "1.2.0"),
        CommandSpec("discard", arity: 1, flags: ["noscript", "loading", "stale", "fast", "allow_busy"], group: "transactions",
                    summary: "Discards a transaction.", since: "2.0.0"),
        CommandSpec("watch", arity: -2, flags: ["noscript", "loading", "stale", "fast", "allow_busy"], keys: (1, -1, 1),
                    group: "transactions",
                    summary: "Aborts the next transaction if a watched key is invalidated before EXEC.", since: "2.2.0"),
        CommandSpec("unwatch", arity: 1, flags: ["noscript", "loading", "stale", "fast", "allow_busy"], group: "transactions",
                    summary: "Forgets about watched keys of a transaction.", since: "2.2.0"),
    ]

    /// Writes that are always refused (`READONLY`), also when queued inside `MULTI`.
    static let refusedWriteNames: Set<String> = Set(writes.map(\.name))
}
