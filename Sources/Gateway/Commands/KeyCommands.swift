import CacheModel
import NIOCore
import ReadThrough
import RESP

/// GET, MGET, EXISTS, TTL, PTTL, TYPE, STRLEN on family keys, answered read-through.
extension CommandDispatcher {
    func keyCommand(_ name: String, _ arguments: [ByteBuffer], eventLoop: any EventLoop) -> CommandOutcome {
        if name == "get" { return get(arguments[1], eventLoop: eventLoop) }  // the hit path: no key array
        guard let cache = environment.cache else { return .reply(Self.noBackends) }
        var keys: [CacheKey] = []
        keys.reserveCapacity(arguments.count - 1)
        for argument in arguments.dropFirst() {
            switch CacheKey.parse(argument) {
            case .success(let key): keys.append(key)
            case .failure(let error): return .reply(.error(error.description))
            }
        }
        let outcome = readThrough(name, keys, arguments: arguments, cache: cache, eventLoop: eventLoop)
        // A miss that PostgreSQL cannot fill fails fast with a retryable error.
        guard case .deferred(let future) = outcome else { return outcome }
        return .deferred(future.recover(Replies.fillFailed))
    }

    private func readThrough(
        _ name: String, _ keys: [CacheKey], arguments: [ByteBuffer], cache: ReadThroughCache, eventLoop: any EventLoop
    ) -> CommandOutcome {
        switch name {
        case "mget":
            return .deferred(cache.get(keys, names: arguments.dropFirst(), on: eventLoop).map { values in
                .array(values.map { $0.map(RESPValue.bulkString) ?? .nullBulkString })
            })
        case "exists":
            return .deferred(cache.get(keys, on: eventLoop).map { values in
                .integer(Int64(values.lazy.filter { $0 != nil }.count))
            })
        case "strlen":
            return .deferred(cache.get(keys[0], on: eventLoop).map { value in
                .integer(Int64(value?.readableBytes ?? 0))
            })
        case "type":
            return .deferred(cache.get(keys[0], on: eventLoop).map { value in
                .simpleString(value == nil ? "none" : "string")
            })
        case "pttl":
            return .deferred(cache.cachedTTLMilliseconds(keys[0], on: eventLoop).map { .integer($0) })
        default:  // ttl: Redis rounds to the nearest second
            return .deferred(cache.cachedTTLMilliseconds(keys[0], on: eventLoop).map { milliseconds in
                .integer(milliseconds < 0 ? milliseconds : (milliseconds + 500) / 1000)
            })
        }
    }

    /// Every write is refused: PostgreSQL is the only writer.
    func refuseWrite(_ name: String, _ arguments: [ByteBuffer]) -> CommandOutcome {
        let key = arguments.count > 1 ? " to '\(Replies.printable(arguments[1], limit: 64))'" : ""
        return .reply(.error(
            "READONLY \(name.uppercased())\(key) refused: the gateway is a read-only cache and PostgreSQL is the only "
                + "writer; change the row in PostgreSQL and the cache follows"))
    }
}
