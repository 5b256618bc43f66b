import NIOCore
import RESP

/// `CLIENT REPLY`, `CLIENT NO-EVICT`, `CLIENT NO-TOUCH`, `CLIENT MAINT_NOTIFICATIONS`: the
/// connection modes client libraries set on connect.
extension CommandDispatcher {
    /// `CLIENT REPLY ON|OFF|SKIP`: OFF and SKIP answer nothing themselves, as in Redis.
    func clientReply(_ argument: ByteBuffer, session: inout ClientSession) -> CommandOutcome {
        if argument.equalsIgnoringCase("on") {
            session.replyMode.turnOn()
            return .reply(Replies.ok)
        }
        if argument.equalsIgnoringCase("off") {
            session.replyMode.turnOff()
            return .noReply
        }
        if argument.equalsIgnoringCase("skip") {
            session.replyMode.skipNext()
            return .noReply
        }
        return .reply(Replies.syntax)
    }

    /// `CLIENT NO-EVICT ON|OFF` and `CLIENT NO-TOUCH ON|OFF`: accepted and without effect, as
    /// the gateway evicts no client and its reads never change Redis's LRU on their own behalf.
    func clientOnOff(_ argument: ByteBuffer) -> RESPValue {
        argument.equalsIgnoringCase("on") || argument.equalsIgnoringCase("off") ? Replies.ok : Replies.syntax
    }

    /// `CLIENT MAINT_NOTIFICATIONS ON|OFF [moving-endpoint-type type]`: accepted; the gateway has
    /// no maintenance events to push (redis-py 8 sends it on every RESP3 connection, expecting OK).
    func clientMaintNotifications(_ arguments: [ByteBuffer]) -> RESPValue {
        guard arguments[2].equalsIgnoringCase("on") || arguments[2].equalsIgnoringCase("off") else { return Replies.syntax }
        var index = 3
        while index < arguments.count {
            guard arguments[index].equalsIgnoringCase("moving-endpoint-type"), index + 1 < arguments.count,
                  Self.endpointTypes.contains(arguments[index + 1].lowercasedASCII) else { return Replies.syntax }
            index += 2
        }
        return Replies.ok
    }

    private static let endpointTypes: Set<String> = ["internal-ip", "internal-fqdn", "external-ip", "external-fqdn", "none"]
}

/// `CLIENT REPLY`'s state, as Redis keeps it: replies off, the current command's reply
/// skipped, the next command's reply skipped.
struct ReplyMode {
    private(set) var isOff = false
    private var skipsCurrent = false
    private var skipsNext = false

    mutating func turnOn() {
        isOff = false
        skipsCurrent = false
    }

    mutating func turnOff() { isOff = true }

    /// Redis ignores SKIP while replies are off.
    mutating func skipNext() {
        if !isOff { skipsNext = true }
    }

    /// Called once per command after it ran: whether its reply goes out.
    mutating func commandFinished() -> Bool {
        let sends = !isOff && !skipsCurrent
        skipsCurrent = skipsNext
        skipsNext = false
        return sends
    }
}
