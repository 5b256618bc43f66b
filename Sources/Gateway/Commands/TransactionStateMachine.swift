import ReadThrough
import RESP

/// The decisions of `MULTI`/`EXEC`/`DISCARD`/`WATCH`/`UNWATCH`, in Redis 7's order and words.
/// Pure: it answers each command, and tells `EXEC` what to run; the dispatcher runs it.
///
/// Redis rejects a command at queue time (unknown, wrong arity, `NOAUTH`, `NOPERM`, a write on
/// a read-only replica) with its error and marks the transaction failed: `EXEC` then answers
/// `EXECABORT`. The gateway refuses writes as a read-only replica does, so a write inside
/// `MULTI` fails the same way.
struct TransactionStateMachine {
    /// What `EXEC` does.
    enum Action: Equatable {
        /// Answer this now.
        case reply(RESPValue)
        /// Run these requests in order and answer their replies as one array.
        case execute([RESPRequest])
    }

    private(set) var isQueuing = false
    private(set) var queued: [RESPRequest] = []
    /// A command was refused while queuing: `EXEC` fails.
    private(set) var failed = false
    /// What `WATCH` recorded, checked by `EXEC`.
    private(set) var watches: [InvalidationEpochs.Mark] = []

    /// Commands that run at once inside `MULTI` instead of queuing, as in Redis.
    static func runsImmediately(_ lowercaseName: String) -> Bool {
        switch lowercaseName {
        case "multi", "exec", "discard", "watch", "quit", "reset": return true
        default: return false
        }
    }

    mutating func multi() -> RESPValue {
        guard !isQueuing else { return .error("ERR MULTI calls can not be nested") }
        isQueuing = true
        return Replies.ok
    }

    /// A command accepted inside `MULTI`.
    mutating func queue(_ request: RESPRequest) -> RESPValue {
        queued.append(request)
        return Self.queuedReply
    }

    /// A command refused before it ran (`error`); inside `MULTI` the transaction fails.
    /// `EXEC` itself refused aborts the transaction, with the refusal in Redis's wording.
    mutating func refused(_ error: RESPValue, command lowercaseName: String) -> RESPValue {
        if lowercaseName == "exec", case .error(let message) = error {
            reset()
            var text = String(buffer: message)
            if text.hasPrefix("ERR ") { text.removeFirst(4) }
            return .error("EXECABORT Transaction discarded because of: \(text)")
        }
        if isQueuing { failed = true }
        return error
    }

    /// `EXEC`: `watchesIntact` says whether no watched key was invalidated since `WATCH`
    /// (asked only when it matters).
    mutating func exec(watchesIntact: () -> Bool) -> Action {
        guard isQueuing else { return .reply(.error("ERR EXEC without MULTI")) }
        let requests = queued
        let failed = self.failed
        let intact = failed || watches.isEmpty || watchesIntact()
        reset()
        if failed { return .reply(.error("EXECABORT Transaction discarded because of previous errors.")) }
        if !intact { return .reply(.nullArray) }
        return .execute(requests)
    }

    mutating func discard() -> RESPValue {
        guard isQueuing else { return .error("ERR DISCARD without MULTI") }
        reset()
        return Replies.ok
    }

    /// `WATCH key …` with the marks of its keys.
    mutating func watch(_ marks: [InvalidationEpochs.Mark]) -> RESPValue {
        guard !isQueuing else { return .error("ERR WATCH inside MULTI is not allowed") }
        watches.append(contentsOf: marks)
        return Replies.ok
    }

    mutating func unwatch() -> RESPValue {
        watches.removeAll()
        return Replies.ok
    }

    /// Back to no transaction and no watched keys (`EXEC`, `DISCARD`, `RESET`).
    mutating func reset() {
        isQueuing = false
        queued.removeAll()
        failed = false
        watches.removeAll()
    }

    static let queuedReply = RESPValue.simpleString("QUEUED")
}
