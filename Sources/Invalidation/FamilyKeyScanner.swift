import CacheModel
import NIOCore
import RedisBackend
import RESP

/// Walks Redis with `SCAN` and unlinks family keys in batches, so that even a million
/// keys never block Redis and reads keep being served meanwhile: one `SCAN … COUNT` step
/// and the `UNLINK` of what it found at a time, each a short Redis call, interleaved with
/// the clients' reads on the same pipelined connection. A one-family flush also pauses
/// between steps as long as each took, so Redis is free at least half the time. On a Redis
/// Cluster it walks every primary in turn (a SCAN cursor belongs to one node).
package struct FamilyKeyScanner: Sendable {
    package let redis: RedisClient
    package let eventLoop: any EventLoop
    /// Keys asked for per SCAN step.
    package var batchSize: Int
    /// Only this family's keys (`SCAN MATCH <family>:*`); nil: every family.
    package var family: KeyFamily?
    /// Called after each step with the keys removed so far.
    package var progress: @Sendable (Int) -> Void = { _ in }

    package init(
        redis: RedisClient, eventLoop: any EventLoop, batchSize: Int = 1_000, family: KeyFamily? = nil,
        progress: @escaping @Sendable (Int) -> Void = { _ in }
    ) {
        self.redis = redis
        self.eventLoop = eventLoop
        self.batchSize = batchSize
        self.family = family
        self.progress = progress
    }

    /// Unlinks every key of the family (or of every family); returns how many were removed.
    package func unlinkAll() -> EventLoopFuture<Int> {
        redis.primaries(on: eventLoop).flatMap { nodes in
            var chain = eventLoop.makeSucceededFuture(0)
            for node in nodes {
                chain = chain.flatMap { removed in step(cursor: "0", removed: removed, node: node) }
            }
            return chain
        }
    }

    /// The SCAN pattern: `user:*` does not match `user_stats:1`; a leaderboard is one key.
    private var pattern: String? {
        guard let family else { return nil }
        return family.hasID ? "\(family.rawValue):*" : family.rawValue
    }

    private func step(cursor: String, removed: Int, node: ClusterNodeAddress) -> EventLoopFuture<Int> {
        guard let pattern else { return scanAndUnlink(cursor: cursor, removed: removed, node: node) }
        // One family: the SCAN step and its UNLINK run in Redis as one short script call, so
        // the keys never travel to the gateway (little work on the event loop, one round trip).
        let script = redis.isCluster ? RedisScripts.scanUnlinkPerKey : RedisScripts.scanUnlink
        let command = [ByteBuffer(string: "EVAL"), script, ByteBuffer(string: "0"),
                       ByteBuffer(string: cursor), ByteBuffer(string: pattern), ByteBuffer(string: String(batchSize)),
                       ByteBuffer(string: family?.hasID == true ? family?.rawValue ?? "" : "")]
        let started = NIODeadline.now()
        return redis.send(command, toNode: node, on: eventLoop).flatMap { reply in
            guard case .array(let parts) = reply, parts.count == 2,
                  case .bulkString(let next) = parts[0], case .integer(let count) = parts[1]
            else {
                return eventLoop.makeFailedFuture(InvalidationError.redisRefused("unexpected scan-unlink reply \(reply)"))
            }
            let nextCursor = String(buffer: next)
            let total = removed + Int(count)
            progress(total)
            if nextCursor == "0" { return eventLoop.makeSucceededFuture(total) }
            // Pause as long as the step took: Redis stays free at least half the time, so
            // reads never queue behind a run of back-to-back flush calls.
            let pause = min(NIODeadline.now() - started, .milliseconds(50))
            return eventLoop.flatScheduleTask(in: pause) { step(cursor: nextCursor, removed: total, node: node) }.futureResult
        }
    }

    /// Every family: SCAN, keep the keys that parse as family keys, detach their fills, UNLINK them.
    private func scanAndUnlink(cursor: String, removed: Int, node: ClusterNodeAddress) -> EventLoopFuture<Int> {
        let command = ["SCAN", cursor, "COUNT", String(batchSize)]
        return redis.send(command, toNode: node, on: eventLoop).flatMap { reply in
            guard case .array(let parts) = reply, parts.count == 2,
                  case .bulkString(let next) = parts[0], case .array(let found) = parts[1]
            else {
                return eventLoop.makeFailedFuture(InvalidationError.redisRefused("unexpected SCAN reply \(reply)"))
            }
            var names: [ByteBuffer] = []
            for item in found {
                guard case .bulkString(let name) = item, case .success = CacheKey.parse(name) else { continue }
                names.append(name)
            }
            let nextCursor = String(buffer: next)
            let unlinked: EventLoopFuture<Int>
            if names.isEmpty {
                unlinked = eventLoop.makeSucceededFuture(0)
            } else {
                unlinked = redis.send([ByteBuffer(string: "UNLINK")] + names, on: eventLoop).map { reply in
                    if case .integer(let count) = reply { return Int(count) }
                    return 0
                }
            }
            return unlinked.flatMap { count in
                progress(removed + count)
                return nextCursor == "0"
                    ? eventLoop.makeSucceededFuture(removed + count)
                    : scanAndUnlink(cursor: nextCursor, removed: removed + count, node: node)
            }
        }
    }
}
