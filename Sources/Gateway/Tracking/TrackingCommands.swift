import NIOCore
import RESP

/// `CLIENT TRACKING|CACHING|TRACKINGINFO|GETREDIR` and `SUBSCRIBE|UNSUBSCRIBE __redis__:invalidate`,
/// with Redis's parsing and error wording (networking.c, `clientCommand`).
extension CommandDispatcher {
    static let invalidationChannel = "__redis__:invalidate"

    /// `CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p …] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]`
    func clientTracking(_ arguments: [ByteBuffer], session: inout ClientSession) -> RESPValue {
        var redirect: Int?
        var prefixes: [String] = []
        var broadcast = false, optIn = false, optOut = false, noLoop = false
        var index = 3
        while index < arguments.count {
            let option = arguments[index].lowercasedASCII
            let hasMore = index + 1 < arguments.count
            switch option {
            case "redirect" where hasMore:
                index += 1
                if redirect != nil { return .error("ERR A client can only redirect to a single other client") }
                guard let id = arguments[index].integerValue else { return .error("ERR value is not an integer or out of range") }
                guard environment.registry.contains(id) else {
                    return .error("ERR The client ID you want redirect to does not exist")
                }
                redirect = id
            case "bcast": broadcast = true
            case "optin": optIn = true
            case "optout": optOut = true
            case "noloop": noLoop = true
            case "prefix" where hasMore:
                index += 1
                prefixes.append(arguments[index].text)
            default: return Replies.syntax
            }
            index += 1
        }
        let id = session.record.id
        guard let sink = session.pushSink else { return .error("ERR client tracking needs a client connection") }
        if arguments[2].equalsIgnoringCase("off") {
            session.tracking = nil
            environment.tracking.disable(client: id)
            return Replies.ok
        }
        guard arguments[2].equalsIgnoringCase("on") else { return Replies.syntax }
        if !broadcast && !prefixes.isEmpty { return .error("ERR PREFIX option requires BCAST mode to be enabled") }
        if let current = session.tracking {
            let wasBroadcast: Bool
            if case .broadcast = current.mode { wasBroadcast = true } else { wasBroadcast = false }
            if wasBroadcast != broadcast {
                return .error("ERR You can't switch BCAST mode on/off before disabling tracking for this client, "
                    + "and then re-enabling it with a different mode.")
            }
        }
        if broadcast && (optIn || optOut) { return .error("ERR OPTIN and OPTOUT are not compatible with BCAST") }
        if optIn && optOut { return .error("ERR You can't use both OPTIN and OPTOUT") }
        if case .keys(let caching)? = session.tracking?.mode,
           (optIn && caching == .optOut) || (optOut && caching == .optIn) {
            return .error("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, "
                + "and then re-enabling it with a different mode.")
        }
        if let collision = Self.prefixCollision(prefixes) { return .error(collision) }
        var options = TrackingOptions()
        options.mode = broadcast ? .broadcast(prefixes: prefixes) : .keys(optIn ? .optIn : optOut ? .optOut : .always)
        options.noLoop = noLoop
        options.redirect = redirect
        session.tracking = options
        environment.tracking.enable(client: id, options: options, sink: sink)
        return Replies.ok
    }

    /// Redis refuses prefixes of one client that overlap (one would announce a key twice).
    static func prefixCollision(_ prefixes: [String]) -> String? {
        for (i, first) in prefixes.enumerated() {
            for second in prefixes[(i + 1)...] where first.hasPrefix(second) || second.hasPrefix(first) {
                return "ERR Prefix '\(first)' overlaps with another provided prefix '\(second)'. "
                    + "Prefixes for a single client must not overlap."
            }
        }
        return nil
    }

    /// `CLIENT CACHING YES|NO`: applies to the client's next command.
    func clientCaching(_ argument: ByteBuffer, session: inout ClientSession) -> RESPValue {
        guard let tracking = session.tracking else {
            return .error("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
        }
        let caching: TrackingOptions.Caching? = if case .keys(let value) = tracking.mode { value } else { nil }
        if argument.equalsIgnoringCase("yes") {
            guard caching == .optIn else { return .error("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.") }
        } else if argument.equalsIgnoringCase("no") {
            guard caching == .optOut else { return .error("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.") }
        } else {
            return Replies.syntax
        }
        session.cachingForNextCommand = true
        return Replies.ok
    }

    /// `CLIENT TRACKINGINFO`: flags, redirect and prefixes, as Redis lists them.
    func clientTrackingInfo(session: ClientSession) -> RESPValue {
        var flags: [RESPValue] = []
        var redirect: Int64 = -1
        var prefixes: [RESPValue] = []
        if let tracking = session.tracking {
            flags.append(.bulkString("on"))
            switch tracking.mode {
            case .broadcast(let list):
                flags.append(.bulkString("bcast"))
                prefixes = list.map { .bulkString($0) }
            case .keys(.optIn):
                flags.append(.bulkString("optin"))
                if session.cachingForNextCommand { flags.append(.bulkString("caching-yes")) }
            case .keys(.optOut):
                flags.append(.bulkString("optout"))
                if session.cachingForNextCommand { flags.append(.bulkString("caching-no")) }
            case .keys(.always): break
            }
            if tracking.noLoop { flags.append(.bulkString("noloop")) }
            redirect = Int64(tracking.redirect ?? 0)
        } else {
            flags.append(.bulkString("off"))
        }
        return .map([
            RESPPair(key: .bulkString("flags"), value: .set(flags)),
            RESPPair(key: .bulkString("redirect"), value: .integer(redirect)),
            RESPPair(key: .bulkString("prefixes"), value: .array(prefixes)),
        ])
    }

    /// `CLIENT GETREDIR`: the redirect's id, 0 when tracking without one, -1 when not tracking.
    func clientGetRedirect(session: ClientSession) -> RESPValue {
        guard let tracking = session.tracking else { return .integer(-1) }
        return .integer(Int64(tracking.redirect ?? 0))
    }

    /// `SUBSCRIBE __redis__:invalidate`: the only channel the gateway has.
    func subscribe(_ arguments: [ByteBuffer], session: inout ClientSession) -> RESPValue {
        guard arguments.count == 2, arguments[1].text == Self.invalidationChannel else {
            return .error("ERR the gateway publishes only the \(Self.invalidationChannel) channel (client tracking's REDIRECT)")
        }
        guard let sink = session.pushSink else { return .error("ERR subscribing needs a client connection") }
        session.subscribedToInvalidations = true
        environment.tracking.subscribe(client: session.record.id, sink: sink)
        return Self.subscriptionReply("subscribe", channel: .bulkString(Self.invalidationChannel), count: 1, session: session)
    }

    /// `UNSUBSCRIBE [channel …]`.
    func unsubscribe(_ arguments: [ByteBuffer], session: inout ClientSession) -> RESPValue {
        let wasSubscribed = session.subscribedToInvalidations
        if arguments.count == 1 || arguments.dropFirst().contains(where: { $0.text == Self.invalidationChannel }) {
            session.subscribedToInvalidations = false
        }
        let channel: RESPValue = wasSubscribed || arguments.count > 1
            ? .bulkString(arguments.count > 1 ? arguments[1].text : Self.invalidationChannel) : .nullBulkString
        return Self.subscriptionReply("unsubscribe", channel: channel, count: session.subscribedToInvalidations ? 1 : 0,
                                      session: session)
    }

    /// A (un)subscription's confirmation: a push in RESP3, an array in RESP2.
    private static func subscriptionReply(_ kind: String, channel: RESPValue, count: Int64, session: ClientSession) -> RESPValue {
        let elements: [RESPValue] = [.bulkString(kind), channel, .integer(count)]
        return session.protocolVersion == .resp3 ? .push(elements) : .array(elements)
    }

    /// In RESP2 a subscribed connection runs only these (Redis's wording for the others).
    static func allowedWhileSubscribed(_ name: String) -> Bool {
        ["subscribe", "unsubscribe", "psubscribe", "punsubscribe", "ssubscribe", "sunsubscribe", "ping", "quit", "reset"]
            .contains(name)
    }

    static func refusedWhileSubscribed(_ name: String) -> RESPValue {
        .error("ERR Can't execute '\(name)': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
    }
}

/// The invalidation push itself, as Redis writes it (tracking.c, `sendTrackingMessage`).
enum TrackingPush {
    /// `>2 invalidate [keys]` (null for everything) in RESP3; on a RESP2 connection subscribed to
    /// `__redis__:invalidate`, the Pub/Sub message with the same array (`$-1` for everything);
    /// nothing for a RESP2 connection that is not (RESP2 has no pushes).
    static func value(_ notice: TrackingTable.Notice, protocolVersion: RESPVersion, subscribed: Bool) -> RESPValue? {
        let keys: RESPValue
        switch notice {
        case .keys(let names): keys = .array(names.map { .bulkString($0) })
        case .all: keys = protocolVersion == .resp3 ? .null : .nullBulkString
        }
        if protocolVersion == .resp3 { return .push([.bulkString("invalidate"), keys]) }
        guard subscribed else { return nil }
        return .array([.bulkString("message"), .bulkString(CommandDispatcher.invalidationChannel), keys])
    }
}
