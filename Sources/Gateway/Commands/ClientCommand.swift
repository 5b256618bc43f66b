import NIOCore
import RESP

/// `CLIENT SETNAME|GETNAME|ID|INFO|SETINFO|LIST|NO-EVICT|NO-TOUCH|MAINT_NOTIFICATIONS|HELP`
/// (`TRACKING|CACHING|TRACKINGINFO|GETREDIR`: Tracking/TrackingCommands.swift)
/// (`CLIENT REPLY`: ClientModeCommands.swift)
extension CommandDispatcher {
    func client(_ arguments: [ByteBuffer], spec: CommandSpec, session: inout ClientSession) -> RESPValue {
        let sub: CommandSpec
        switch subcommand(arguments, of: spec) {
        case .success(let found): sub = found
        case .failure(let error): return error.reply
        }
        let record = session.record
        switch sub.name {
        case "client|setname":
            let name = arguments[2].text
            if let problem = ClientNames.validate(name) { return problem }
            record.update { $0.name = name }
            return Replies.ok
        case "client|getname":
            let name = record.name
            return name.isEmpty ? .nullBulkString : .bulkString(name)
        case "client|id":
            return .integer(Int64(record.id))
        case "client|info":
            return .verbatimOrBulk(record.listLine + "\n", version: session.protocolVersion)
        case "client|setinfo":
            let value = arguments[3].text
            if let problem = ClientNames.validateInfo(value) { return problem }
            if arguments[2].equalsIgnoringCase("lib-name") {
                record.update { $0.libraryName = value }
            } else if arguments[2].equalsIgnoringCase("lib-ver") {
                record.update { $0.libraryVersion = value }
            } else {
                return .error("ERR Unrecognized option '\(Replies.printable(arguments[2], limit: 128))'")
            }
            return Replies.ok
        case "client|tracking":
            return clientTracking(arguments, session: &session)
        case "client|caching":
            return clientCaching(arguments[2], session: &session)
        case "client|trackinginfo":
            return clientTrackingInfo(session: session)
        case "client|getredir":
            return clientGetRedirect(session: session)
        case "client|list":
            return clientList(arguments, session: session)
        case "client|no-evict", "client|no-touch":
            return clientOnOff(arguments[2])
        case "client|maint_notifications":
            return clientMaintNotifications(arguments)
        default:
            return .array([
                "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "GETNAME", "    Return the name of the current connection.",
                "ID", "    Return the ID of the current connection.",
                "INFO", "    Return information about the current client connection.",
                "LIST [TYPE normal] [ID id [id ...]]", "    Return information about client connections.",
                "SETINFO <option> <value>", "    Set client meta attr. Options are: LIB-NAME, LIB-VER.",
                "NO-EVICT (ON|OFF)", "    Accepted without effect: the gateway evicts no client.",
                "NO-TOUCH (ON|OFF)", "    Accepted without effect.",
                "REPLY (ON|OFF|SKIP)", "    Control the replies sent to the current connection.",
                "SETNAME <name>", "    Assign the name <name> to the current connection.",
                "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]] [OPTIN] [OPTOUT] [NOLOOP]",
                "    Control server assisted client side caching.",
                "CACHING (YES|NO)", "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
                "TRACKINGINFO", "    Report tracking status for the current connection.",
                "GETREDIR", "    Return the client ID we are redirecting to when tracking is enabled.",
                "HELP", "    Print this help.",
            ].map { RESPValue.simpleString($0) })
        }
    }

    private func clientList(_ arguments: [ByteBuffer], session: ClientSession) -> RESPValue {
        var wantedIDs: Set<Int>?
        var index = 2
        while index < arguments.count {
            if arguments[index].equalsIgnoringCase("type"), index + 1 < arguments.count {
                let type = arguments[index + 1].lowercasedASCII
                guard ["normal", "master", "replica", "pubsub"].contains(type) else {
                    return .error("ERR Unknown client type '\(Replies.printable(arguments[index + 1], limit: 64))'")
                }
                if type != "normal" { return .verbatimOrBulk("", version: session.protocolVersion) }
                index += 2
            } else if arguments[index].equalsIgnoringCase("id"), index + 1 < arguments.count {
                var ids = Set<Int>()
                index += 1
                while index < arguments.count, let id = arguments[index].integerValue, id > 0 {
                    ids.insert(id)
                    index += 1
                }
                guard !ids.isEmpty else { return .error("ERR Invalid client ID") }
                wantedIDs = ids
            } else {
                return Replies.syntax
            }
        }
        let lines = environment.registry.all
            .filter { wantedIDs?.contains($0.id) ?? true }
            .map { $0.listLine + "\n" }
        return .verbatimOrBulk(lines.joined(), version: session.protocolVersion)
    }
}

/// Redis's rules for client names and library attributes.
enum ClientNames {
    static func validate(_ name: String) -> RESPValue? {
        guard name.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) || name.isEmpty else {
            return .error("ERR Client names cannot contain spaces, newlines or special characters.")
        }
        return nil
    }

    static func validateInfo(_ value: String) -> RESPValue? {
        guard value.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) else {
            return .error("ERR lib-name and lib-ver cannot contain spaces, newlines or special characters.")
        }
        return nil
    }
}

extension RESPValue {
    /// Text replies that Redis sends as verbatim strings in RESP3 and bulk strings in RESP2.
    static func verbatimOrBulk(_ text: String, version: RESPVersion) -> RESPValue {
        version == .resp3
            ? .verbatimString(format: ByteBuffer(string: "txt"), body: ByteBuffer(string: text))
            : .bulkString(text)
    }
}
