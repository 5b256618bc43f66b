import CacheModel
import NIOCore
import RESP

/// `QUICKSELL …` (the operator commands) and `DEL`/`UNLINK` of family keys, which
/// invalidate instead of writing. Admin-only when users are configured.
extension CommandDispatcher {
    /// `-NOPERM` when the session's user may not run this command; nil when it may.
    func permissionDenied(_ spec: CommandSpec, _ arguments: [ByteBuffer], session: ClientSession) -> RESPValue? {
        guard !environment.configuration.users.isAdmin(session.authenticatedUser) else { return nil }
        let fullName: String
        switch spec.name {
        case "del", "unlink":
            fullName = spec.name
        case "quicksell":
            guard let sub = spec.subcommand(arguments[1].lowercasedASCII), sub.name != "quicksell|help" else { return nil }
            fullName = sub.name
        default:
            return nil
        }
        return .error("NOPERM this user has no permissions to run the '\(fullName)' command")
    }

    /// `DEL key …` / `UNLINK key …`: invalidates family keys; replies how many were cached.
    func deleteKeys(_ arguments: [ByteBuffer], eventLoop: any EventLoop) -> CommandOutcome {
        guard let operations = environment.operations else { return .reply(Self.noBackends) }
        switch parseKeys(arguments.dropFirst()) {
        case .success(let keys):
            return .deferred(operations.flush(keys, on: eventLoop).map { .integer(Int64($0)) })
        case .failure(let error):
            return .reply(error.reply)
        }
    }

    func quicksell(_ arguments: [ByteBuffer], spec: CommandSpec, session: ClientSession,
                   eventLoop: any EventLoop) -> CommandOutcome {
        let sub: CommandSpec
        switch subcommand(arguments, of: spec) {
        case .success(let found): sub = found
        case .failure(let error): return .reply(error.reply)
        }
        if sub.name == "quicksell|help" { return .reply(.array(Self.quicksellHelp.map { .simpleString($0) })) }
        guard let operations = environment.operations else { return .reply(Self.noBackends) }
        let rest = Array(arguments.dropFirst(2))
        switch sub.name {
        case "quicksell|flush":
            switch parseKeys(rest[...]) {
            case .success(let keys):
                return .deferred(operations.flush(keys, on: eventLoop).map { .integer(Int64($0)) })
            case .failure(let error):
                return .reply(error.reply)
            }
        case "quicksell|flushfamily":
            return flushFamily(rest, operations: operations, eventLoop: eventLoop)
        case "quicksell|flushall":
            // As Redis's FLUSHALL, tracking clients are then told to drop everything (the null push).
            let flushed = operations.flush(families: KeyFamily.allCases, on: eventLoop)
                .always { [tracking = environment.tracking] _ in tracking.everythingInvalidated() }
            return .deferred(reply(flushed) { .integer(Int64($0)) })
        case "quicksell|stats":
            let version = session.protocolVersion
            return .deferred(reply(StatsReport.gather(environment, operations: operations, on: eventLoop)) {
                .verbatimOrBulk($0.json, version: version)
            })
        case "quicksell|get":
            guard case .success(let key) = CacheKey.parse(rest[0]) else {
                return .reply(parseKeys(rest[...]).failureReply ?? Replies.syntax)
            }
            return .deferred(reply(operations.inspect(key, on: eventLoop)) { value, ttl, hit in
                .map([
                    pair("key", .bulkString(key.name)),
                    pair("value", value.map(RESPValue.bulkString) ?? .nullBulkString),
                    pair("ttl_ms", .integer(ttl)),
                    pair("cache", .bulkString(hit ? "hit" : "miss")),
                ])
            })
        default:  // warm, warmids
            return warm(rest, idsOnly: sub.name == "quicksell|warmids", operations: operations, eventLoop: eventLoop)
        }
    }

    private func flushFamily(_ rest: [ByteBuffer], operations: OperatorService, eventLoop: any EventLoop) -> CommandOutcome {
        let families: [KeyFamily]
        switch FamilySelector.families(rest[0].text) {
        case .success(let found): families = found
        case .failure(let error): return .reply(error.reply)
        }
        guard rest.count > 1 else {
            return .deferred(reply(operations.flush(families: families, on: eventLoop)) { .integer(Int64($0)) })
        }
        guard families.count == 1, let family = families.first, family.hasID else {
            return .reply(.error("ERR the leaderboards have no ids: flush them with QUICKSELL FLUSHFAMILY \(rest[0].text)"))
        }
        var keys: [CacheKey] = []
        for id in rest.dropFirst() {
            guard case .success(let key) = CacheKey.parse("\(family.rawValue):\(id.text)") else {
                return .reply(.error("ERR invalid id '\(Replies.printable(id, limit: 64))': ids are positive integers"))
            }
            keys.append(key)
        }
        return .deferred(reply(operations.flush(keys, on: eventLoop)) { .integer(Int64($0)) })
    }

    private func warm(_ rest: [ByteBuffer], idsOnly: Bool, operations: OperatorService,
                      eventLoop: any EventLoop) -> CommandOutcome {
        guard rest.count <= 2 else { return .reply(Replies.syntax) }
        let families: [KeyFamily]
        switch FamilySelector.families(rest[0].text) {
        case .success(let found): families = found
        case .failure(let error): return .reply(error.reply)
        }
        var top = OperatorService.defaultWarm
        if rest.count == 2 {
            guard let value = rest[1].integerValue, (1...OperatorService.maxWarm).contains(value) else {
                return .reply(.error("ERR top must be an integer in 1...\(OperatorService.maxWarm)"))
            }
            top = value
        }
        if idsOnly {
            return .deferred(reply(operations.warmKeys(families, top: top, on: eventLoop)) { keys in
                .array(keys.map { .bulkString($0.name) })
            })
        }
        return .deferred(reply(operations.warm(families, top: top, on: eventLoop)) { .integer(Int64($0)) })
    }

    private func parseKeys(_ arguments: ArraySlice<ByteBuffer>) -> Result<[CacheKey], RESPValueError> {
        var keys: [CacheKey] = []
        keys.reserveCapacity(arguments.count)
        for argument in arguments {
            switch CacheKey.parse(argument) {
            case .success(let key): keys.append(key)
            case .failure(let error): return .failure(RESPValueError(.error(error.description)))
            }
        }
        return .success(keys)
    }

    /// A backend failure becomes an error reply naming it, never a dropped connection.
    private func reply<Value: Sendable>(
        _ future: EventLoopFuture<Value>, _ transform: @escaping @Sendable (Value) -> RESPValue
    ) -> EventLoopFuture<RESPValue> {
        future.map(transform).recover { error in
            .error("ERR \(String("\(error)".prefix(300).map { $0 == "\r" || $0 == "\n" ? " " : $0 }))")
        }
    }

    static let noBackends = RESPValue.error("ERR the gateway has no backends configured")

    static let quicksellHelp = [
        "QUICKSELL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "FLUSH <key> [<key> ...]",
        "    Invalidate these family keys; returns how many were cached. (admin)",
        "FLUSHFAMILY <family> [<id> ...]",
        "    Invalidate every cached key of a family (SCAN + UNLINK in batches), or some ids of it;",
        "    returns how many keys were removed. Progress: INFO operator. (admin)",
        "FLUSHALL",
        "    Invalidate every cached key of every family. (admin)",
        "STATS",
        "    Per-family hits, misses, fills, fill latency, invalidations and lag, and health, as JSON. (admin)",
        "GET <key>",
        "    The value (read-through), its remaining TTL in ms and whether it was a hit. (admin)",
        "WARM <family> [<top>]",
        "    Fill the top keys of a family ahead of traffic (most-viewed listings, top users, leaderboards). (admin)",
        "WARMIDS <family> [<top>]",
        "    The keys WARM would fill, in ranking order. (admin)",
        "HELP",
        "    Print this help.",
        "Families: \(FamilySelector.validNames.joined(separator: ", ")).",
    ]
}

private extension Result where Failure == RESPValueError {
    var failureReply: RESPValue? {
        if case .failure(let error) = self { return error.reply }
        return nil
    }
}
