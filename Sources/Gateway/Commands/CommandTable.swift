/// The commands the gateway answers, by lowercase name.
enum CommandTable {
    static let connection: [CommandSpec] = [
        CommandSpec("ping", arity: -1, flags: ["fast"], group: "connection", summary: "Returns the server's liveliness response."),
        CommandSpec("echo", arity: 2, flags: ["fast"], group: "connection", summary: "Returns the given string."),
        CommandSpec("hello", arity: -1, flags: ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"],
                    group: "connection", summary: "Handshakes with the server.", since: "6.0.0"),
        CommandSpec("auth", arity: -2, flags: ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"],
                    group: "connection", summary: "Authenticates the connection."),
        CommandSpec("quit", arity: -1, flags: ["allow_busy", "noscript", "loading", "stale", "fast", "no_auth"],
                    group: "connection", summary: "Closes the connection."),
        CommandSpec("reset", arity: 1, flags: ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"],
                    group: "connection", summary: "Resets the connection.", since: "6.2.0"),
        CommandSpec("select", arity: 2, flags: ["loading", "stale", "fast"], group: "connection",
                    summary: "Changes the selected database (only 0 exists here)."),
        CommandSpec("client", arity: -2, flags: [], group: "connection", summary: "A container for client connection commands.",
                    since: "2.4.0", subcommands: [
                        CommandSpec("client|setname", arity: 3, flags: ["noscript", "loading", "stale"], group: "connection",
                                    summary: "Sets the connection name.", since: "2.6.9"),
                        CommandSpec("client|getname", arity: 2, flags: ["noscript", "loading", "stale"], group: "connection",
                                    summary: "Returns the name of the connection.", since: "2.6.9"),
                        CommandSpec("client|id", arity: 2, flags: ["noscript", "loading", "stale"], group: "connection",
                                    summary: "Returns the unique client ID of the connection.", since: "5.0.0"),
                        CommandSpec("client|info", arity: 2, flags: ["noscript", "loading", "stale"], group: "connection",
                                    summary: "Returns information about the connection.", since: "6.2.0"),
                        CommandSpec("client|setinfo", arity: 4, flags: ["noscript", "loading", "stale"], group: "connection",
                                    summary: "Sets information specific to the client or connection.", since: "7.2.0"),
                        CommandSpec("client|list", arity: -2, flags: ["admin", "noscript", "loading", "stale"],
                                    group: "connection", summary: "Lists open connections.", since: "2.4.0"),
                        CommandSpec("client|reply", arity: 3, flags: ["noscript", "loading", "stale"], group: "connection",
                                    summary: "Instructs the server whether to reply to commands.", since: "3.2.0"),
                        CommandSpec("client|no-evict", arity: 3, flags: ["admin", "noscript", "loading", "stale"],
                                    group: "connection", summary: "Sets the client eviction mode of the connection.",
                                    since: "7.0.0"),
                        CommandSpec("client|no-touch", arity: 3, flags: ["noscript", "loading", "stale"], group: "connection",
                                    summary: "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.",
                                    since: "7.2.0"),
                        CommandSpec("client|maint_notifications", arity: -3, flags: ["noscript", "loading", "stale"],
                                    group: "connection",
                                    summary: "Accepted; the gateway sends no maintenance notifications.", since: "8.2.0"),
                        CommandSpec("client|tracking", arity: -3, flags: ["noscript", "loading", "stale"], group: "connection",
                                    summary: "Controls server-assisted client-side caching for the connection.", since: "6.0.0"),
                        CommandSpec("client|caching", arity: 3, flags: ["noscript", "loading", "stale"], group: "connection",
                                    summary: "Instructs the server whether to track the keys in the next request.", since: "6.0.0"),
                        CommandSpec("client|trackinginfo", arity: 2, flags: ["noscript", "loading", "stale"], group: "connection",
                                    summary: "Returns information about server-assisted client-side caching for the connection.",
                                    since: "6.2.0"),
                        CommandSpec("client|getredir", arity: 2, flags: ["noscript", "loading", "stale"], group: "connection",
                                    summary: "Returns the client ID to which the connection's tracking notifications are redirected.",
                                    since: "6.0.0"),
                        CommandSpec("client|help", arity: 2, flags: ["loading", "stale"], group: "connection",
                                    summary: "Returns helpful text about the different subcommands.", since: "5.0.0"),
                    ]),
        CommandSpec("command", arity: -1, flags: ["loading", "stale"], group: "server",
                    summary: "Returns detailed information about all commands.", since: "2.8.13", subcommands: [
                        CommandSpec("command|count", arity: 2, flags: ["loading", "stale"], group: "server",
                                    summary: "Returns a count of commands.", since: "2.8.13"),
                        CommandSpec("command|docs", arity: -2, flags: ["loading", "stale"], group: "server",
                                    summary: "Returns documentary information about one, multiple or all commands.", since: "7.0.0"),
                        CommandSpec("command|info", arity: -2, flags: ["loading", "stale"], group: "server",
                                    summary: "Returns information about one, multiple or all commands.", since: "2.8.13"),
                        CommandSpec("command|list", arity: -2, flags: ["loading", "stale"], group: "server",
                                    summary: "Returns a list of command names.", since: "7.0.0"),
                    ]),
        CommandSpec("info", arity: -1, flags: ["loading", "stale"], group: "server",
                    summary: "Returns information and statistics about the gateway."),
        CommandSpec("time", arity: 1, flags: ["loading", "stale", "fast"], group: "server",
                    summary: "Returns the server time.", since: "2.6.0"),
        CommandSpec("config", arity: -2, flags: [], group: "server", summary: "A container for server configuration commands.",
                    since: "2.0.0", subcommands: [
                        CommandSpec("config|get", arity: -3, flags: ["admin", "noscript", "loading", "stale"], group: "server",
                                    summary: "Returns the effective values of configuration parameters.", since: "2.0.0"),
                    ]),
    ]

    /// Read-through commands on family keys.
    static let keys: [CommandSpec] = [
        CommandSpec("get", arity: 2, flags: ["readonly", "fast"], keys: (1, 1, 1), group: "string",
                    summary: "Returns the cached object of a family key, filling it from PostgreSQL on a miss."),
        CommandSpec("mget", arity: -2, flags: ["readonly", "fast"], keys: (1, -1, 1), group: "string",
                    summary: "Returns several cached objects; misses of one family share one query."),
        CommandSpec("exists", arity: -2, flags: ["readonly", "fast"], keys: (1, -1, 1), group: "keyspace",
                    summary: "Counts the keys whose objects exist."),
        CommandSpec("strlen", arity: 2, flags: ["readonly", "fast"], keys: (1, 1, 1), group: "string",
                    summary: "Returns the length of a cached object's JSON."),
        CommandSpec("type", arity: 2, flags: ["readonly", "fast"], keys: (1, 1, 1), group: "keyspace",
                    summary: "Returns 'string' for an existing object, 'none' otherwise."),
        CommandSpec("ttl", arity: 2, flags: ["readonly", "fast"], keys: (1, 1, 1), group: "keyspace",
                    summary: "Returns the remaining seconds of the cached copy (-2 when not cached)."),
        CommandSpec("pttl", arity: 2, flags: ["readonly", "fast"], keys: (1, 1, 1), group: "keyspace",
                    summary: "Returns the remaining milliseconds of the cached copy (-2 when not cached).", since: "2.6.0"),
    ]

    /// Writes, all refused with -READONLY (PostgreSQL is the only writer; DEL/UNLINK invalidate, see `operatorCommands`).
    static let writes: [CommandSpec] = [
        ("set", -3), ("setex", 4), ("psetex", 4), ("setnx", 3), ("setrange", 4), ("getset", 3), ("getdel", 2),
        ("getex", -2), ("append", 3), ("incr", 2), ("decr", 2), ("incrby", 3), ("decrby", 3), ("incrbyfloat", 3),
        ("mset", -3), ("msetnx", -3), ("expire", -3), ("pexpire", -3), ("expireat", -3), ("pexpireat", -3),
        ("persist", 2), ("rename", 3), ("renamenx", 3), ("copy", -3),
        ("flushdb", -1), ("flushall", -1),
    ].map { name, arity in
        CommandSpec(name, arity: arity, flags: ["write"], keys: (1, 1, 1), group: "string",
                    summary: "Refused: PostgreSQL is the only writer.")
    }

    /// Operator commands: invalidation by key (DEL/UNLINK) and the QUICKSELL container.
    /// Admin-only when users are configured.
    static let operatorCommands: [CommandSpec] = [
        CommandSpec("del", arity: -2, flags: ["write"], keys: (1, -1, 1), group: "keyspace",
                    summary: "Invalidates family keys (admin); returns how many were cached."),
        CommandSpec("unlink", arity: -2, flags: ["write", "fast"], keys: (1, -1, 1), group: "keyspace",
                    summary: "Invalidates family keys (admin); returns how many were cached.", since: "4.0.0"),
        CommandSpec("quicksell", arity: -2, flags: [], group: "server",
                    summary: "A container for the gateway's operator commands.", subcommands: [
                        CommandSpec("quicksell|help", arity: 2, flags: ["loading", "stale"], group: "server",
                                    summary: "Returns helpful text about the different subcommands."),
                        CommandSpec("quicksell|flush", arity: -3, flags: ["admin", "write"], keys: (2, -1, 1), group: "server",
                                    summary: "Invalidates family keys; returns how many were cached."),
                        CommandSpec("quicksell|flushfamily", arity: -3, flags: ["admin", "write"], group: "server",
                                    summary: "Invalidates every cached key of a family (SCAN + UNLINK in batches), or some ids of it."),
                        CommandSpec("quicksell|flushall", arity: 2, flags: ["admin", "write"], group: "server",
                                    summary: "Invalidates every cached key of every family."),
                        CommandSpec("quicksell|stats", arity: 2, flags: ["admin"], group: "server",
                                    summary: "Returns per-family counters, fill latency, invalidation lag and health as JSON."),
                        CommandSpec("quicksell|get", arity: 3, flags: ["admin"], keys: (2, 2, 1), group: "server",
                                    summary: "Returns a key's value, its remaining TTL in ms and whether it was a hit."),
                        CommandSpec("quicksell|warm", arity: -3, flags: ["admin"], group: "server",
                                    summary: "Fills the top keys of a family ahead of traffic; returns how many."),
                        CommandSpec("quicksell|warmids", arity: -3, flags: ["admin"], group: "server",
                                    summary: "Returns the keys QUICKSELL WARM would fill, in ranking order."),
                    ]),
    ]

    /// Pub/Sub: the only channel is client tracking's `__redis__:invalidate` (TrackingCommands.swift).
    static let pubsub: [CommandSpec] = [
        ("subscribe", -2, "2.0.0", "Listens for client tracking's invalidations (__redis__:invalidate only)."),
        ("unsubscribe", -1, "2.0.0", "Stops listening for client tracking's invalidations."),
        ("psubscribe", -2, "2.0.0", "Refused: the gateway has no channels but __redis__:invalidate."),
        ("punsubscribe", -1, "2.0.0", "Refused: the gateway has no pattern subscriptions."),
        ("ssubscribe", -2, "7.0.0", "Refused: the gateway has no shard channels."),
        ("sunsubscribe", -1, "7.0.0", "Refused: the gateway has no shard channels."),
    ].map { name, arity, since, summary in
        CommandSpec(name, arity: arity, flags: ["pubsub", "noscript", "loading", "stale"], group: "pubsub",
                    summary: summary, since: since)
    }

    static let all: [CommandSpec] = connection + transactions + keys + pubsub + operatorCommands + writes
    static let byName: [String: CommandSpec] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    static func spec(_ lowercaseName: String) -> CommandSpec? { byName[lowercaseName] }
}
