import NIOCore
import RESP

/// `COMMAND`, `COMMAND COUNT|INFO|DOCS|LIST`: enough for redis-cli's hints and for
/// client libraries that look up key positions.
extension CommandDispatcher {
    func command(_ arguments: [ByteBuffer], spec: CommandSpec) -> RESPValue {
        if arguments.count == 1 {
            return .array(CommandTable.all.map(info))
        }
        let sub: CommandSpec
        switch subcommand(arguments, of: spec) {
        case .success(let found): sub = found
        case .failure(let error): return error.reply
        }
        let names = arguments.dropFirst(2).map(\.lowercasedASCII)
        switch sub.name {
        case "command|count":
            return .integer(Int64(CommandTable.all.count))
        case "command|info":
            if names.isEmpty { return .array(CommandTable.all.map(info)) }
            return .array(names.map { name in CommandTable.spec(name).map(info) ?? .nullArray })
        case "command|docs":
            let specs = names.isEmpty ? CommandTable.all : names.compactMap(CommandTable.spec)
            return .map(specs.map { RESPPair(key: .bulkString($0.name), value: docs($0)) })
        default:  // command|list
            return .array(CommandTable.all.map { .bulkString($0.name) })
        }
    }

    private func info(_ spec: CommandSpec) -> RESPValue {
        .array([
            .bulkString(spec.name),
            .integer(Int64(spec.arity)),
            .set(spec.flags.map { .simpleString($0) }),
            .integer(Int64(spec.firstKey)),
            .integer(Int64(spec.lastKey)),
            .integer(Int64(spec.step)),
            .set([.simpleString("@\(spec.group)")]),
            .set([]),
            .array([]),
            .array(spec.subcommands.map(info)),
        ])
    }

    private func docs(_ spec: CommandSpec) -> RESPValue {
        var fields = [
            pair("summary", .bulkString(spec.summary)),
            pair("since", .bulkString(spec.since)),
            pair("group", .bulkString(spec.group)),
        ]
        if !spec.subcommands.isEmpty {
            fields.append(pair("subcommands", .map(spec.subcommands.map {
                RESPPair(key: .bulkString($0.name), value: docs($0))
            })))
        }
        return .map(fields)
    }
}
