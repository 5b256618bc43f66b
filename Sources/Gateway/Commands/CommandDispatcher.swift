import CoreMetrics
import NIOCore
import RESP

/// Turns one request into its outcome, with Redis's order of checks: unknown command,
/// then arity, then authentication, then permission (admin commands), then the command itself.
struct CommandDispatcher: Sendable {
    let environment: ServerEnvironment

    /// `timer` receives where to record the request's duration (nil for unknown commands or
    /// without metrics).
    func dispatch(
        _ request: RESPRequest, session: inout ClientSession, eventLoop: any EventLoop, timer: inout CoreMetrics.Timer?
    ) -> CommandOutcome {
        let arguments = request.arguments
        guard let first = arguments.first else { return .reply(Replies.syntax) }
        let name = first.lowercasedASCII
        guard let spec = CommandTable.spec(name) else {
            _ = environment.metrics?.requestStarted(nil)
            return refused(Replies.unknownCommand(arguments), command: name, session: &session)
        }
        timer = environment.metrics?.requestStarted(spec.name)
        guard spec.accepts(argumentCount: arguments.count) else {
            return refused(Replies.wrongArity(spec.name), command: name, session: &session)
        }
        if !session.isAuthenticated && !spec.flags.contains("no_auth") {
            return refused(Replies.noAuth, command: name, session: &session)
        }
        if let denied = permissionDenied(spec, arguments, session: session) {
            return refused(denied, command: name, session: &session)
        }
        if session.subscribedToInvalidations && session.protocolVersion == .resp2 && !Self.allowedWhileSubscribed(name) {
            return refused(Self.refusedWhileSubscribed(name), command: name, session: &session)
        }
        if session.transaction.isQueuing && !TransactionStateMachine.runsImmediately(name) {
            return queueInTransaction(request, name: name, spec: spec, session: &session)
        }
        // As Redis: commands refused above (unknown, arity, NOAUTH) are not counted as processed.
        environment.stats.commandsProcessed.add(1, ordering: .relaxed)
        // CLIENT LIST's `cmd=`: the full name, `client|info` for a subcommand, as Redis shows it.
        let lastCommand = spec.subcommands.isEmpty || arguments.count < 2 ? spec.name
            : (spec.subcommand(arguments[1].lowercasedASCII)?.name ?? spec.name)
        if lastCommand != session.lastCommand {  // published on change only: no lock per GET of a GET stream
            session.lastCommand = lastCommand
            session.record.update { $0.lastCommand = lastCommand }
        }
        if session.tracking != nil {
            // CLIENT CACHING applies to the next command only; CLIENT itself keeps it (as Redis).
            defer { if name != "client" && !session.transaction.isQueuing { session.cachingForNextCommand = false } }
            if spec.firstKey > 0 && spec.flags.contains("readonly") && session.remembersReads {
                rememberReads(arguments.dropFirst(), session: session)
            }
            return run(name, request, spec: spec, session: &session, eventLoop: eventLoop)
        }
        return run(name, request, spec: spec, session: &session, eventLoop: eventLoop)
    }

    private func run(
        _ name: String, _ request: RESPRequest, spec: CommandSpec, session: inout ClientSession, eventLoop: any EventLoop
    ) -> CommandOutcome {
        let arguments = request.arguments
        switch name {  // the key commands first: a String switch tries its cases in order
        case "get", "mget", "exists", "strlen", "type", "ttl", "pttl":
            return keyCommand(name, arguments, eventLoop: eventLoop)
        case "ping": return .reply(ping(arguments, session: session))
        case "subscribe": return .reply(subscribe(arguments, session: &session))
        case "unsubscribe": return .reply(unsubscribe(arguments, session: &session))
        case "echo": return .reply(.bulkString(arguments[1]))
        case "hello": return authenticationOutcome(hello(arguments, session: &session), arguments, session: &session)
        case "auth": return authenticationOutcome(.reply(auth(arguments, session: &session)), arguments, session: &session)
        case "quit": return .replyAndClose(Replies.ok)
        case "reset": return .reply(reset(session: &session))
        case "select": return .reply(select(arguments))
        case "time": return .reply(time())
        case "client":
            if arguments.count == 3, arguments[1].equalsIgnoringCase("reply") {
                return clientReply(arguments[2], session: &session)
            }
            return .reply(client(arguments, spec: spec, session: &session))
        case "psubscribe", "ssubscribe", "punsubscribe", "sunsubscribe":
            return .reply(.error("ERR the gateway publishes only the \(Self.invalidationChannel) channel (SUBSCRIBE)"))
        case "multi", "exec", "discard", "watch", "unwatch":
            return transactionCommand(name, arguments, session: &session, eventLoop: eventLoop)
        case "command": return .reply(command(arguments, spec: spec))
        case "info": return .reply(info(arguments, session: session))
        case "config": return .reply(config(arguments, spec: spec, session: session))
        case "quicksell": return quicksell(arguments, spec: spec, session: session, eventLoop: eventLoop)
        case "del", "unlink": return deleteKeys(arguments, eventLoop: eventLoop)
        default:
            if spec.flags.contains("write") { return refuseWrite(name, arguments) }
            return .reply(Replies.unknownCommand(arguments))
        }
    }

    /// Resolves `CONTAINER SUBCOMMAND …`, checking the subcommand's arity.
    func subcommand(_ arguments: [ByteBuffer], of spec: CommandSpec) -> Result<CommandSpec, RESPValueError> {
        let subName = arguments[1].lowercasedASCII
        guard let sub = spec.subcommand(subName) else {
            return .failure(RESPValueError(Replies.unknownSubcommand(arguments[1], of: spec.name)))
        }
        guard sub.accepts(argumentCount: arguments.count) else {
            return .failure(RESPValueError(Replies.wrongArity(sub.name)))
        }
        return .success(sub)
    }
}

/// An error reply carried through a `Result`.
struct RESPValueError: Error {
    let reply: RESPValue
    init(_ reply: RESPValue) { self.reply = reply }
}
