/// What `COMMAND`, `COMMAND INFO` and `COMMAND DOCS` say about a command, and its arity
/// (Redis's convention: n exactly n arguments including the name, -n at least n).
/// A class: looking a command up per request then costs one reference, not a copy of every field.
final class CommandSpec: Sendable {
    let name: String
    let arity: Int
    let flags: [String]
    let firstKey: Int
    let lastKey: Int
    let step: Int
    let group: String
    let summary: String
    let since: String
    let subcommands: [CommandSpec]

    init(
        _ name: String, arity: Int, flags: [String], keys: (Int, Int, Int) = (0, 0, 0),
        group: String, summary: String, since: String = "1.0.0", subcommands: [CommandSpec] = []
    ) {
        self.name = name
        self.arity = arity
        self.flags = flags
        self.firstKey = keys.0
        self.lastKey = keys.1
        self.step = keys.2
        self.group = group
        self.summary = summary
        self.since = since
        self.subcommands = subcommands
    }

    /// Whether `count` arguments (the name included) fit the arity.
    func accepts(argumentCount count: Int) -> Bool {
        arity >= 0 ? count == arity : count >= -arity
    }

    func subcommand(_ name: String) -> CommandSpec? {
        subcommands.first { $0.name == "\(self.name)|\(name)" }
    }
}
