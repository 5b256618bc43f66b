import NIOCore
import RESP

#if canImport(Glibc)
import Glibc
#endif

/// PING, HELLO, AUTH, RESET, SELECT, TIME: the handshake and liveness commands.
extension CommandDispatcher {
    func ping(_ arguments: [ByteBuffer], session: ClientSession) -> RESPValue {
        switch arguments.count {
        case 1: return .simpleString("PONG")
        case 2: return .bulkString(arguments[1])
        default: return Replies.wrongArity("ping")
        }
    }

    /// `HELLO [protover [AUTH username password] [SETNAME clientname]]`
    func hello(_ arguments: [ByteBuffer], session: inout ClientSession) -> CommandOutcome {
        var version = session.protocolVersion
        if arguments.count >= 2 {
            guard let requested = arguments[1].integerValue else {
                return .reply(.error("ERR Protocol version is not an integer or out of range"))
            }
            switch requested {
            case 2: version = .resp2
            case 3: version = .resp3
            default: return .reply(.error("NOPROTO unsupported protocol version"))
            }
        }
        var credentials: (user: String, password: String)?
        var newName: String?
        var index = 2
        while index < arguments.count {
            let remaining = arguments.count - index - 1
            if arguments[index].equalsIgnoringCase("auth"), remaining >= 2 {
                credentials = (arguments[index + 1].text, arguments[index + 2].text)
                index += 3
            } else if arguments[index].equalsIgnoringCase("setname"), remaining >= 1 {
                newName = arguments[index + 1].text
                index += 2
            } else {
                return .reply(.error("ERR Syntax error in HELLO option '\(Replies.printable(arguments[index], limit: 128))'"))
            }
        }
        if let credentials {
            guard environment.configuration.users.authenticates(user: credentials.user, password: credentials.password) else {
                return .reply(Replies.wrongPass)
            }
            session.authenticatedUser = credentials.user
            let user = credentials.user
            session.record.update { $0.user = user }
        } else if !session.isAuthenticated {
            return .reply(.error(
                "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH "
                    + "<user> <pass> option can be used to authenticate the client and select the RESP protocol version "
                    + "at the same time"))
        }
        if let newName {
            if let problem = ClientNames.validate(newName) { return .reply(problem) }
            session.record.update { $0.name = newName }
        }
        session.protocolVersion = version
        let protocolNumber = version == .resp3 ? 3 : 2
        session.record.update { $0.protocolVersion = protocolNumber }
        return .reply(.map([
            pair("server", .bulkString("redis")),
            pair("version", .bulkString(environment.compatibleRedisVersion)),
            pair("proto", .integer(Int64(protocolNumber))),
            pair("id", .integer(Int64(session.record.id))),
            pair("mode", .bulkString("standalone")),
            pair("role", .bulkString("master")),
            pair("modules", .array([])),
            pair("gateway", .bulkString("quicksell-gateway \(environment.gatewayVersion)")),
        ]))
    }

    /// Counts a `WRONGPASS` answer to `AUTH` or `HELLO … AUTH`; closes the connection once it
    /// has failed `AuthFailures.perConnectionLimit` times.
    func authenticationOutcome(_ outcome: CommandOutcome, _ arguments: [ByteBuffer], session: inout ClientSession)
        -> CommandOutcome
    {
        guard case .reply(let reply) = outcome, reply == Replies.wrongPass else { return outcome }
        session.failedAuths += 1
        let user: String
        if arguments[0].equalsIgnoringCase("auth") {
            user = arguments.count == 3 ? arguments[1].text : UserDirectory.defaultUserName
        } else {
            let index = arguments.firstIndex { $0.equalsIgnoringCase("auth") }
            user = index.flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1].text : nil } ?? "?"
        }
        let close = environment.authFailures.record(
            user: String(user.prefix(64)), client: session.record.remoteAddress, failuresOnConnection: session.failedAuths)
        return close ? .replyAndClose(reply) : outcome
    }

    /// `AUTH [username] password`
    func auth(_ arguments: [ByteBuffer], session: inout ClientSession) -> RESPValue {
        let users = environment.configuration.users
        let user: String
        let password: String
        switch arguments.count {
        case 2:
            // As Redis's default user when it has no password (`nopass`; disabled when only named
            // users are configured): a hint, not WRONGPASS.
            guard users.defaultUserHasPassword else {
                return .error("ERR AUTH <password> called without any password configured for the default user. "
                    + "Are you sure your configuration is correct?")
            }
            user = UserDirectory.defaultUserName
            password = arguments[1].text
        case 3:
            user = arguments[1].text
            password = arguments[2].text
        default:
            return Replies.syntax
        }
        guard users.authenticates(user: user, password: password) else { return Replies.wrongPass }
        session.authenticatedUser = user
        session.record.update { $0.user = user }
        return Replies.ok
    }

    /// `RESET`: back to a fresh connection's state (RESP2, no name, not authenticated, no
    /// transaction or watched keys, replies on).
    func reset(session: inout ClientSession) -> RESPValue {
        session.protocolVersion = .resp2
        session.transaction.reset()
        session.replyMode = ReplyMode()
        if session.tracking != nil || session.subscribedToInvalidations {  // as Redis: RESET turns tracking off
            environment.tracking.disable(client: session.record.id)
        }
        session.tracking = nil
        session.subscribedToInvalidations = false
        session.cachingForNextCommand = false
        session.authenticatedUser = environment.configuration.users.requiresAuthentication
            ? nil : UserDirectory.defaultUserName
        session.record.update {
            $0.name = ""
            $0.protocolVersion = 2
            $0.user = UserDirectory.defaultUserName
        }
        return .simpleString("RESET")
    }

    /// `SELECT index`: the gateway has one database, 0.
    func select(_ arguments: [ByteBuffer]) -> RESPValue {
        guard let index = arguments[1].integerValue else {
            return .error("ERR value is not an integer or out of range")
        }
        return index == 0 ? Replies.ok : .error("ERR DB index is out of range")
    }

    /// `TIME`: seconds and microseconds of the wall clock.
    func time() -> RESPValue {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return .array([
            .bulkString(String(now.tv_sec)),
            .bulkString(String(now.tv_nsec / 1000)),
        ])
    }
}

func pair(_ key: String, _ value: RESPValue) -> RESPPair {
    RESPPair(key: .bulkString(key), value: value)
}
