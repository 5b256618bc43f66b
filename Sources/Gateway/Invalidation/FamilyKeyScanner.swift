import NIOCore
import RedisBackend
import RESP

/// Walks Redis with `SCAN` and unlinks family keys in batches, so that even a million
/// keys never block Redis and reads keep being served meanwhile.
struct FamilyKeyScanner: Sendable {
    let redis: RedisClient
    let eventLoop: any EventLoop
    /// Keys asked for per SCAN step.
    var batchSize = 1_000

    /// Unlinks every key of every family; returns how many were removed.
    func unlinkAll() -> EventLoopFuture<Int> {
        step(cursor: "0", removed: 0)
    }

    private func step(cursor: String, removed: Int) -> EventLoopFuture<Int> {
        redis.send(["SCAN", cursor, "COUNT", String(batchSize)], on: eventLoop).flatMap { reply in
            guard case .array(let parts) = reply, parts.count == 2,
                  case .bulkString(let next) = parts[0], case .array(let found) = parts[1]
            else {
                return eventLoop.makeFailedFuture(InvalidationError.redisRefused("unexpected SCAN reply \(reply)"))
            }
            let keys: [ByteBuffer] = found.compactMap { item in
                guard case .bulkString(let name) = item, case .success = CacheKey.parse(name) else { return nil }
                return name
            }
            let nextCursor = String(buffer: next)
            let unlinked: EventLoopFuture<Int> = keys.isEmpty
                ? eventLoop.makeSucceededFuture(0)
                : redis.send([ByteBuffer(string: "UNLINK")] + keys, on: eventLoop).map { reply in
                    if case .integer(let count) = reply { return Int(count) }
                    return 0
                }
            return unlinked.flatMap { count in
                nextCursor == "0"
                    ? eventLoop.makeSucceededFuture(removed + count)
                    : step(cursor: nextCursor, removed: removed + count)
            }
        }
    }
}
