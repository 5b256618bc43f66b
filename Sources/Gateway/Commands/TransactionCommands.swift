import CacheModel
import CoreMetrics
import NIOCore
import RESP

/// `MULTI`/`EXEC`/`DISCARD`/`WATCH`/`UNWATCH`: asks the session's `TransactionStateMachine`
/// and runs what `EXEC` decides.
extension CommandDispatcher {
    /// A request refused before it ran: inside `MULTI` it fails the transaction.
    func refused(_ error: RESPValue, command lowercaseName: String, session: inout ClientSession) -> CommandOutcome {
        guard session.transaction.isQueuing || lowercaseName == "exec" else { return .reply(error) }
        return .reply(session.transaction.refused(error, command: lowercaseName))
    }

    /// A command inside `MULTI` that passed the checks every command passes: queued, unless
    /// Redis would refuse it at queue time (a write, as on a read-only replica; an unknown
    /// subcommand or a subcommand's wrong arity).
    func queueInTransaction(
        _ request: RESPRequest, name: String, spec: CommandSpec, session: inout ClientSession
    ) -> CommandOutcome {
        if CommandTable.refusedWriteNames.contains(name), case .reply(let error) = refuseWrite(name, request.arguments) {
            return refused(error, command: name, session: &session)
        }
        if !spec.subcommands.isEmpty, request.arguments.count >= 2,
           case .failure(let error) = subcommand(request.arguments, of: spec) {
            return refused(error.reply, command: name, session: &session)
        }
        return .reply(session.transaction.queue(request))
    }

    /// The transaction commands themselves (`name` is one of them).
    func transactionCommand(
        _ name: String, _ arguments: [ByteBuffer], session: inout ClientSession, eventLoop: any EventLoop
    ) -> CommandOutcome {
        switch name {
        case "multi": return .reply(session.transaction.multi())
        case "discard": return .reply(session.transaction.discard())
        case "unwatch": return .reply(session.transaction.unwatch())
        case "watch":
            let epochs = environment.cache?.fills.epochs
            let marks = epochs.map { epochs in
                arguments.dropFirst().map { epochs.mark(try? CacheKey.parse($0).get()) }
            } ?? []
            return .reply(session.transaction.watch(marks))
        default:  // exec
            let watches = session.transaction.watches
            let epochs = environment.cache?.fills.epochs
            switch session.transaction.exec(watchesIntact: { epochs?.unchanged(since: watches) ?? true }) {
            case .reply(let value): return .reply(value)
            case .execute(let requests): return execute(requests, session: &session, eventLoop: eventLoop)
            }
        }
    }

    /// Runs the queued requests in order, each as it would run alone (misses read through),
    /// and answers their replies as one array.
    private func execute(_ requests: [RESPRequest], session: inout ClientSession, eventLoop: any EventLoop) -> CommandOutcome {
        var replies: [EventLoopFuture<RESPValue>] = []
        replies.reserveCapacity(requests.count)
        for request in requests {
            var timer: CoreMetrics.Timer?
            let outcome = dispatch(request, session: &session, eventLoop: eventLoop, timer: &timer)
            replies.append(Self.future(of: outcome, on: eventLoop))
        }
        if session.lastCommand != "exec" {  // CLIENT LIST shows EXEC, not its last queued command, as Redis
            session.lastCommand = "exec"
            session.record.update { $0.lastCommand = "exec" }
        }
        if replies.isEmpty { return .reply(.array([])) }
        return .deferred(EventLoopFuture.whenAllComplete(replies, on: eventLoop).map { results in
            .array(results.map { result in
                switch result {
                case .success(let reply): return reply
                case .failure(let error): return .error("ERR \(error)")
                }
            })
        })
    }

    private static func future(of outcome: CommandOutcome, on eventLoop: any EventLoop) -> EventLoopFuture<RESPValue> {
        switch outcome {
        case .reply(let value), .replyAndClose(let value): return eventLoop.makeSucceededFuture(value)
        case .deferred(let future): return future
        case .noReply: return eventLoop.makeSucceededFuture(Replies.ok)
        case .cacheGet(let get):
            return get.cache.get(get.key, on: eventLoop)
                .map { $0.map(RESPValue.bulkString) ?? .nullBulkString }
                .recover(Replies.fillFailed)
        }
    }
}
