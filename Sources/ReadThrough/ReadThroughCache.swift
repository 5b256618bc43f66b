import CacheModel
import CoreMetrics
import Logging
import NIOCore
import Postgres
import RedisBackend
import RESP

/// Serves family keys from Redis and fills misses from PostgreSQL.
///
/// A hit costs one Redis round trip on the client's own event loop and hands the
/// stored bytes back untouched. An absent row is stored as an empty string (never valid
/// JSON) for the negative TTL and read back as a null reply.
public final class ReadThroughCache: Sendable {
    package let redis: RedisClient
    package let fills: FillCoordinator
    /// Hot values in the gateway's memory; nil when `near_cache.max_bytes` is 0.
    package let near: NearCache?
    /// The fills and the near cache, which every invalidation reaches before Redis.
    package let copies: LocalCopies
    package let settings: CacheSettings
    package let pool: PostgresPool
    public let stats: FamilyStats
    package let logger: Logger

    public convenience init(redis: RedisClient, pool: PostgresPool, settings: CacheSettings,
                            nearCache: NearCacheSettings = NearCacheSettings(maxBytes: 0),
                            metricsFactory: (any MetricsFactory)? = nil, logger: Logger) {
        self.init(redis: redis, pool: pool, settings: settings, nearCache: nearCache, hooks: FillHooks(),
                  metricsFactory: metricsFactory, logger: logger)
    }

    /// `hooks` let tests hold fills at chosen points.
    package init(redis: RedisClient, pool: PostgresPool, settings: CacheSettings, nearCache: NearCacheSettings,
                 hooks: FillHooks, metricsFactory: (any MetricsFactory)?, observer: (any InvalidationObserver)? = nil,
                 logger: Logger) {
        self.redis = redis
        self.settings = settings
        self.pool = pool
        let stats = FamilyStats()
        self.stats = stats
        self.logger = logger
        self.fills = FillCoordinator(
            pool: pool, settings: settings, stats: stats,
            store: Self.store(redis: redis, settings: settings, logger: logger), hooks: hooks,
            metricsFactory: metricsFactory, logger: logger)
        let near = nearCache.isEnabled ? NearCache(settings: nearCache, cacheSettings: settings) : nil
        self.near = near
        self.copies = LocalCopies(fills: fills, near: near, observer: observer)
    }

    /// Sends the Redis GET of a read-through GET; Redis's reply goes to `receiver` with `tag`
    /// (on `eventLoop`, the current loop), which hands it to `finishGet`. The hit path: a hit
    /// costs one Redis round trip and no closure, promise or future. `name` is the key's bytes as
    /// the client sent them (canonical, since the key parsed from them).
    package func startGet(name: ByteBuffer, on eventLoop: any EventLoop, receiver: any RedisReplyReceiver, tag: Int) {
        redis.send(Self.get, key: name, on: eventLoop, receiver: receiver, tag: tag)
    }

    /// What Redis's reply to the GET of `key` means for the client.
    package enum GetStep {
        /// A hit (nil: cached as absent).
        case value(ByteBuffer?)
        /// A miss, or Redis unreachable: PostgreSQL fills it (single flight keeps it calm).
        case later(EventLoopFuture<ByteBuffer?>)
        case failed(any Error)
    }

    /// Classifies Redis's reply to the GET of `key` (counting the hit or miss) and starts the
    /// fill of a miss. Must be called on `eventLoop`.
    /// `shedMisses`: a miss is refused (`FillShed`, counted as shed) instead of filled, because
    /// the caller's event loop has as many fills under way as it allows.
    /// `nearMark`: the near cache's mark taken when the GET was sent; a value read under it is
    /// offered to the near cache.
    package func finishGet(
        _ result: Result<RESPValue, any Error>, key: CacheKey, on eventLoop: any EventLoop, shedMisses: FillShed? = nil,
        nearMark: NearCache.Mark? = nil
    ) -> GetStep {
        switch result {
        case .success(let reply):
            switch classify(reply, key: key) {
            case .hit(let value):
                if let nearMark, let near, let value { near.offer(key, value: value, mark: nearMark) }
                return .value(value)
            case .miss: return fillUnlessShed(key, on: eventLoop, shedMisses: shedMisses)
            }
        case .failure(let error) where error is RedisClientError:
            return fillUnlessShed(key, on: eventLoop, shedMisses: shedMisses)
        case .failure(let error):
            return .failed(error)
        }
    }

    /// The value of `key` as a future (for callers off the hit path).
    package func get(_ key: CacheKey, on eventLoop: any EventLoop) -> EventLoopFuture<ByteBuffer?> {
        lookup(key, on: eventLoop).map(\.value)
    }

    /// The value of `key` and whether Redis had it (for `QUICKSELL GET`); counted as `get`.
    package func lookup(_ key: CacheKey, on eventLoop: any EventLoop) -> EventLoopFuture<(value: ByteBuffer?, hit: Bool)> {
        let promise = eventLoop.makePromise(of: (value: ByteBuffer?, hit: Bool).self)
        redis.send([Self.get, ByteBuffer(string: key.name)], on: eventLoop).hop(to: eventLoop).assumeIsolated()
            .whenComplete { [self] result in
                switch finishGet(result, key: key, on: eventLoop) {
                case .value(let value): promise.succeed((value, true))
                case .later(let fill): promise.completeWith(fill.map { ($0, false) })
                case .failed(let error): promise.fail(error)
                }
            }
        return promise.futureResult
    }

    /// The values of `keys`, in order (one Redis round trip, one query per family of misses).
    /// `names`, when given, are the keys' bytes as the client sent them.
    package func get(_ keys: [CacheKey], names: ArraySlice<ByteBuffer>? = nil, on eventLoop: any EventLoop) -> EventLoopFuture<[ByteBuffer?]> {
        var command = [Self.mget]
        command.reserveCapacity(keys.count + 1)
        if let names, names.count == keys.count {
            command.append(contentsOf: names)
        } else {
            for key in keys { command.append(ByteBuffer(string: key.name)) }
        }
        return redis.send(command, on: eventLoop).flatMap { [self] reply in
            guard case .array(let replies) = reply, replies.count == keys.count else {
                return fillAll(keys, indices: Array(keys.indices), known: Array(repeating: nil, count: keys.count),
                               on: eventLoop)
            }
            var known = [ByteBuffer?](repeating: nil, count: keys.count)
            var missing: [Int] = []
            for (index, key) in keys.enumerated() {
                switch classify(replies[index], key: key) {
                case .hit(let value): known[index] = value
                case .miss: missing.append(index)
                }
            }
            if missing.isEmpty { return eventLoop.makeSucceededFuture(known) }
            return fillAll(keys, indices: missing, known: known, on: eventLoop)
        }.flatMapError { [self] error in
            if error is RedisClientError {
                return fillAll(keys, indices: Array(keys.indices), known: Array(repeating: nil, count: keys.count),
                               on: eventLoop)
            }
            return eventLoop.makeFailedFuture(error)
        }
    }

    /// Remaining TTL of the cached copy in milliseconds (-2 when not cached or cached
    /// as absent), without filling.
    package func cachedTTLMilliseconds(_ key: CacheKey, on eventLoop: any EventLoop) -> EventLoopFuture<Int64> {
        let name = ByteBuffer(string: key.name)
        let ttl = redis.send([ByteBuffer(string: "PTTL"), name], on: eventLoop)
        let length = redis.send([ByteBuffer(string: "STRLEN"), name], on: eventLoop)
        return ttl.and(length).map { ttl, length in
            guard case .integer(let milliseconds) = ttl, case .integer(let bytes) = length, bytes > 0 else { return -2 }
            return milliseconds
        }
    }

    private enum Lookup {
        case hit(ByteBuffer?)
        case miss
    }

    /// What the near cache has for a GET of `key` (a value held counts as a hit of its family).
    package func nearRead(_ key: CacheKey) -> NearCacheShard.Read {
        guard let near else { return .miss(nil) }
        let read = near.read(key)
        if case .value = read { stats[key.family].hits.add(1, ordering: .relaxed) }
        return read
    }

    private func classify(_ reply: RESPValue, key: CacheKey) -> Lookup {
        let counters = stats[key.family]
        switch reply {
        case .bulkString(let value) where value.readableBytes > 0:
            counters.hits.add(1, ordering: .relaxed)
            return .hit(value)
        case .bulkString:
            counters.negativeHits.add(1, ordering: .relaxed)
            return .hit(nil)
        default:
            counters.misses.add(1, ordering: .relaxed)
            return .miss
        }
    }

    private func fillUnlessShed(_ key: CacheKey, on eventLoop: any EventLoop, shedMisses: FillShed?) -> GetStep {
        guard let shed = shedMisses else { return .later(fill(key, on: eventLoop)) }
        stats[key.family].shed.add(1, ordering: .relaxed)
        return .failed(shed)
    }

    private func fill(_ key: CacheKey, on eventLoop: any EventLoop) -> EventLoopFuture<ByteBuffer?> {
        fills.fill(key, on: eventLoop).map(\.json)
    }

    private func fillAll(
        _ keys: [CacheKey], indices: [Int], known: [ByteBuffer?], on eventLoop: any EventLoop
    ) -> EventLoopFuture<[ByteBuffer?]> {
        let futures = fills.fill(indices.map { keys[$0] }, on: eventLoop)
        return EventLoopFuture.whenAllSucceed(futures, on: eventLoop).map { values in
            var result = known
            for (position, index) in indices.enumerated() { result[index] = values[position].json }
            return result
        }
    }

    /// Stores a batch of filled values with their TTLs in one script call (one per hash slot
    /// on a Redis Cluster), each unless a write it predates was invalidated meanwhile (see
    /// `RedisScripts`).
    private static func store(redis: RedisClient, settings: CacheSettings, logger: Logger) -> FillCoordinator.Store {
        { filled, eventLoop in
            for group in redis.slotGroups(filled, key: { $0.0.name }) {
                var arguments = [ByteBuffer(string: String(group.count * 2))]
                arguments.reserveCapacity(1 + group.count * 5)
                for (key, _) in group {
                    let name = key.name
                    arguments.append(ByteBuffer(string: name))
                    arguments.append(ByteBuffer(string: RedisScripts.writersKey(name)))
                }
                for (key, value) in group {
                    let ttl: Int64 = value.isAbsent
                        ? Int64(settings.negativeTTLSeconds) * 1000
                        : settings.storeTTLMilliseconds(key.family, secondsUntilPeriodEnd: value.secondsUntilPeriodEnd,
                                                        random: Double.random(in: 0..<1))
                    arguments.append(value.json ?? ByteBuffer())
                    arguments.append(ByteBuffer(string: String(ttl)))
                    arguments.append(ByteBuffer(string: value.snapshot))
                }
                let first = group[0].0.name
                redis.evaluate(RedisScripts.store, arguments, on: eventLoop).whenComplete { result in
                    switch result {
                    case .success(.error(let message)):
                        logger.warning("store refused by Redis", metadata: [
                            "keys": "\(group.count)", "first": "\(first)", "error": "\(String(buffer: message))"])
                    case .failure(let error):
                        logger.debug("store failed", metadata: ["keys": "\(group.count)", "first": "\(first)", "error": "\(error)"])
                    default:
                        break
                    }
                }
            }
        }
    }

    private static let get = ByteBuffer(string: "GET")
    private static let mget = ByteBuffer(string: "MGET")
}
