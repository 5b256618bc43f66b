import CacheModel
import Invalidation
import Logging
import NIOCore
import Postgres
import ReadThrough
import RedisBackend
import RESP

/// The operations behind the `QUICKSELL` admin commands and `DEL`/`UNLINK`. Every flush
/// goes through the invalidation machinery's rules: the keys' in-flight fills are detached
/// first (no later read joins a fill that started before the flush), then the keys are
/// unlinked, so the next read is a miss served from current PostgreSQL data.
final class OperatorService: Sendable {
    let cache: ReadThroughCache
    let progress = FlushProgress()
    private let logger: Logger

    /// Keys per step of a family flush (SCAN COUNT, then UNLINK, in one script call): each
    /// call keeps Redis busy about a millisecond, so reads queued behind it barely notice.
    static let flushBatch = 500
    /// Keys per UNLINK when flushing named keys: keeps each Redis call short.
    static let keysPerUnlink = 500
    /// Keys filled per step of a warm-up (one MGET-sized batch through the read-through path).
    static let warmBatch = 100
    /// Keys a warm-up fills when the operator does not say.
    static let defaultWarm = 1_000
    /// Most keys one warm-up may ask for.
    static let maxWarm = 100_000
    /// Log the progress of a family flush every this many keys.
    static let logEvery = 100_000

    init(cache: ReadThroughCache) {
        self.cache = cache
        self.logger = cache.logger
    }

    /// Invalidates `keys`; returns how many were cached (Redis's DEL count).
    func flush(_ keys: [CacheKey], on eventLoop: any EventLoop) -> EventLoopFuture<Int> {
        let copies = cache.copies
        copies.invalidate(keys)
        var chain = eventLoop.makeSucceededFuture(0)
        for start in stride(from: 0, to: keys.count, by: Self.keysPerUnlink) {
            let chunk = keys[start..<min(start + Self.keysPerUnlink, keys.count)]
            let command = [ByteBuffer(string: "UNLINK")] + chunk.map { ByteBuffer(string: $0.name) }
            chain = chain.flatMap { [cache] total in
                cache.redis.send(command, on: eventLoop).flatMapThrowing { reply in
                    switch reply {
                    case .integer(let count): return total + Int(count)
                    case .error(let message): throw InvalidationError.redisRefused(String(buffer: message))
                    default: throw InvalidationError.redisRefused("unexpected UNLINK reply \(reply)")
                    }
                }
            }
        }
        return chain.always { _ in copies.invalidated(keys) }.map { [progress] removed in
            progress.removedKeys(removed)
            return removed
        }
    }

    /// Unlinks every cached key of `family` with SCAN + UNLINK in batches; reads keep being
    /// served meanwhile. Returns how many keys were removed.
    func flush(family: KeyFamily, on eventLoop: any EventLoop) -> EventLoopFuture<Int> {
        let started = NIODeadline.now()
        let copies = cache.copies
        copies.invalidate(families: [family])
        progress.started(family.name)
        logger.info("family flush started", metadata: ["family": "\(family.name)"])
        let progress = self.progress
        let logger = self.logger
        let scanner = FamilyKeyScanner(
            redis: cache.redis, eventLoop: eventLoop, batchSize: Self.flushBatch, family: family,
            progress: { removed in
                if progress.advanced(family.name, removed: removed, logEvery: Self.logEvery) { logger.info("family flush progress", metadata: ["family": "\(family.name)", "removed": "\(removed)"]) }
            })
        return scanner.unlinkAll().always { result in
            // Fills that started during the flush read current data; detach them anyway so
            // that nothing from before the flush's end is reused.
            copies.fills.invalidate(family: family)
            copies.invalidated(families: [family])
            let milliseconds = Int((NIODeadline.now() - started).nanoseconds / 1_000_000)
            switch result {
            case .success(let removed):
                progress.finished(family.name, removed: removed, milliseconds: milliseconds)
                logger.info("family flush done", metadata: [
                    "family": "\(family.name)", "removed": "\(removed)", "ms": "\(milliseconds)"])
            case .failure(let error):
                progress.finished(family.name, removed: 0, milliseconds: milliseconds)
                logger.warning("family flush failed", metadata: ["family": "\(family.name)", "error": "\(error)"])
            }
        }
    }

    /// Flushes several families one after another; returns the keys removed in all.
    func flush(families: [KeyFamily], on eventLoop: any EventLoop) -> EventLoopFuture<Int> {
        var chain = eventLoop.makeSucceededFuture(0)
        for family in families {
            chain = chain.flatMap { [self] total in flush(family: family, on: eventLoop).map { total + $0 } }
        }
        return chain
    }

    /// The value of `key` (filled on a miss), its remaining TTL and whether Redis had it.
    func inspect(_ key: CacheKey, on eventLoop: any EventLoop) -> EventLoopFuture<(value: ByteBuffer?, ttl: Int64, hit: Bool)> {
        cache.lookup(key, on: eventLoop).flatMap { [cache] value, hit in
            // A fill's store is sent right after its requesters are answered, in the same task:
            // the TTL is read in the next task, so that Redis sees it behind the store.
            eventLoop.flatSubmit {
                cache.cachedTTLMilliseconds(key, on: eventLoop).map { ttl in (value, ttl, hit) }
            }
        }
    }

    /// The keys a warm-up of `families` fills: the top `top` ids by the family's ranking.
    func warmKeys(_ families: [KeyFamily], top: Int, on eventLoop: any EventLoop) -> EventLoopFuture<[CacheKey]> {
        var chain = eventLoop.makeSucceededFuture([CacheKey]())
        for family in families {
            chain = chain.flatMap { [cache] keys in
                guard let ranking = WarmQueries.ranking(family) else {
                    return eventLoop.makeSucceededFuture(keys + [CacheKey(family: family, id: 0)])
                }
                return cache.pool.run(on: eventLoop) { connection -> [CacheKey] in
                    let result = try connection.execute(prepared: ranking.name, sql: ranking.sql, [String(top)])
                    return result.rows.compactMap { row in
                        row.first.flatMap { $0 }.flatMap { Int64($0) }.map { CacheKey(family: family, id: $0) }
                    }
                }.map { keys + $0 }
            }
        }
        return chain
    }

    /// Fills the top keys of `families` through the read-through path, a batch at a time;
    /// returns how many keys were warmed.
    func warm(_ families: [KeyFamily], top: Int, on eventLoop: any EventLoop) -> EventLoopFuture<Int> {
        warmKeys(families, top: top, on: eventLoop).flatMap { [cache, logger] keys in
            var chain = eventLoop.makeSucceededVoidFuture()
            for start in stride(from: 0, to: keys.count, by: Self.warmBatch) {
                let batch = Array(keys[start..<min(start + Self.warmBatch, keys.count)])
                chain = chain.flatMap { cache.get(batch, on: eventLoop).map { _ in } }
            }
            return chain.map {
                logger.info("warm-up done", metadata: [
                    "families": "\(families.map(\.name).joined(separator: ","))", "keys": "\(keys.count)"])
                return keys.count
            }
        }
    }
}
