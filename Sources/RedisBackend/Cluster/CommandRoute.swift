import NIOCore

/// Where a command goes in a cluster, read from its name and arguments: the slot of its keys,
/// every key of a multi-key command that may be split per slot, or any node for a command
/// without keys.
enum CommandRoute: Equatable {
    /// Every key is in this slot.
    case slot(Int)
    /// A multi-key command whose keys span several slots and that can be split per node:
    /// `MGET` (replies reassembled in order) or `DEL`/`UNLINK`/`EXISTS`/`TOUCH` (counts added).
    case split(SplitKind)
    /// Keys of several slots in a command that cannot be split (e.g. one script call).
    case crossSlot
    /// No key: any node answers (`PING`, `INFO`, `SCAN`, `SCRIPT LOAD`, …).
    case anyNode

    enum SplitKind: Equatable {
        /// Keys are arguments[1...], the reply is an array in key order.
        case mget
        /// Keys are arguments[1...], the reply is the sum of integer replies.
        case sumOfCounts
    }

    /// The route of `arguments` (name first). Command names are matched without regard to case.
    static func of<Argument: RedisCommandArgument>(_ arguments: [Argument]) -> CommandRoute {
        guard let first = arguments.first else { return .anyNode }
        let name = first.upperCasedName
        switch name {
        case "GET", "SET", "PTTL", "TTL", "STRLEN", "TYPE", "PEXPIRE", "EXPIRE", "ZADD", "ZRANGE", "INCR",
             "GETEX", "GETDEL", "PSETEX", "SETEX":
            guard arguments.count >= 2 else { return .anyNode }
            return .slot(arguments[1].hashSlot)
        case "MGET", "DEL", "UNLINK", "EXISTS", "TOUCH":
            guard arguments.count >= 2 else { return .anyNode }
            let slot = arguments[1].hashSlot
            for argument in arguments.dropFirst(2) where argument.hashSlot != slot {
                return .split(name == "MGET" ? .mget : .sumOfCounts)
            }
            return .slot(slot)
        case "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO":
            guard arguments.count >= 3, let keyCount = arguments[2].integerValue, keyCount > 0,
                  arguments.count >= 3 + keyCount
            else { return .anyNode }
            let slot = arguments[3].hashSlot
            for argument in arguments[4..<(3 + keyCount)] where argument.hashSlot != slot { return .crossSlot }
            return .slot(slot)
        default:
            return .anyNode
        }
    }
}

extension RedisCommandArgument {
    /// The argument's text in upper case (command names are short).
    var upperCasedName: String { text.uppercased() }

    /// The argument as a decimal integer, if it is one.
    var integerValue: Int? { Int(text) }
}
