import CacheModel
import CoreMetrics
import NIOCore
import ReadThrough
import RESP

/// The hit path's entry: a GET that the decoder handed over as its key alone
/// (`RESPRequestDecoder.decodeNext`), without an argument array.
extension CommandDispatcher {
    /// Runs `GET key` with the checks of `dispatch` in the same order. GET is a known command
    /// with a fixed arity (the decoder saw exactly two arguments) and never needs admin rights,
    /// so only authentication remains to check; the counters and `CLIENT LIST`'s `cmd=` move
    /// exactly as for a GET that went through `dispatch`.
    func dispatchGet(
        key: ByteBuffer, session: inout ClientSession, eventLoop: any EventLoop, timer: inout CoreMetrics.Timer?
    ) -> CommandOutcome {
        if session.transaction.isQueuing {  // queued, with the checks of any command inside MULTI
            return dispatch(RESPRequest(arguments: [Self.getCommand, key]), session: &session, eventLoop: eventLoop, timer: &timer)
        }
        timer = environment.metrics?.getRequestStarted()
        if !session.isAuthenticated { return .reply(Replies.noAuth) }
        environment.stats.commandsProcessed.add(1, ordering: .relaxed)
        if session.lastCommand != Self.getName {
            session.lastCommand = Self.getName
            session.record.update { $0.lastCommand = Self.getName }
        }
        if session.tracking != nil {
            defer { session.cachingForNextCommand = false }
            if session.remembersReads { rememberReads(CollectionOfOne(key), session: session) }
        }
        return get(key, eventLoop: eventLoop)
    }

    /// Remembers the keys a tracking client is about to read, before the read starts: a write
    /// invalidated after this point reaches the client as a push behind the value it read.
    func rememberReads<Names: Collection<ByteBuffer>>(_ names: Names, session: ClientSession) {
        var keys: [CacheKey] = []
        for name in names {
            if case .success(let key) = CacheKey.parse(name) { keys.append(key) }
        }
        if !keys.isEmpty { environment.tracking.remember(keys, client: session.record.id) }
    }

    /// `GET name` read through the cache (both entries share it).
    func get(_ name: ByteBuffer, eventLoop: any EventLoop) -> CommandOutcome {
        guard let cache = environment.cache else { return .reply(Self.noBackends) }
        switch CacheKey.parse(name) {
        case .success(let key):
            switch cache.nearRead(key) {
            case .value(let value): return .reply(.bulkString(value))
            case .miss(let mark): return .cacheGet(CacheGet(cache: cache, key: key, name: name, nearMark: mark))
            }
        case .failure(let error): return .reply(.error(error.description))
        }
    }

    private static let getName = "get"
    private static let getCommand = ByteBuffer(string: "GET")
}
