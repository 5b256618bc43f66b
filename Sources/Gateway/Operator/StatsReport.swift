import Foundation
import NIOCore
import RESP

/// What `QUICKSELL STATS` answers, as JSON: per-family counters, fill latency,
/// invalidations and their lag, the gateway's health and the flushes. JSON so that the CLI,
/// redis-cli users and scripts all read one stable document (keys in snake_case).
struct StatsReport: Codable, Sendable {
    struct Family: Codable, Sendable {
        var name: String
        var hits: Int
        var negativeHits: Int
        var misses: Int
        /// (hits + negative hits) / lookups; nil before the first lookup.
        var hitRate: Double?
        var fills: Int
        var absentFills: Int
        var queries: Int
        var fillErrors: Int
        var fillLatencyAvgUsec: Int
        var invalidationsReceived: Int
        var invalidationsApplied: Int
        var lagP50Usec: Int?
        var lagP99Usec: Int?
    }

    struct Health: Codable, Sendable {
        /// `ok` or `down`.
        var redis: String
        var postgres: String
        /// `ok`, `degraded` (disconnected, recovering) or `off` (invalidation disabled).
        var listener: String
        var redisError: String?
        var postgresError: String?
    }

    struct Invalidation: Codable, Sendable {
        var status: String
        var notifications: Int
        var recoveries: Int
        var lagP50Usec: Int?
        var lagP99Usec: Int?
        var lagMaxUsec: Int?
    }

    struct Flush: Codable, Sendable {
        var inProgress: Int
        var family: String
        var keysRemoved: Int
        var completed: Int
        var keysRemovedTotal: Int
        var lastFamily: String
        var lastKeys: Int
        var lastMs: Int
    }

    var gatewayVersion: String
    var uptimeSeconds: Int
    var health: Health
    /// In `KeyFamily` order.
    var families: [Family]
    var hits: Int
    var misses: Int
    var hitRate: Double?
    var invalidation: Invalidation
    var flush: Flush
    /// Cluster mode: each primary with its key count (DBSIZE) or why it did not answer; absent otherwise.
    var redisNodes: [RedisNode]?

    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

extension StatsReport {
    /// Gathers the counters and probes Redis (PING) and PostgreSQL (SELECT 1), each
    /// bounded by its client's timeouts.
    static func gather(_ environment: ServerEnvironment, operations: OperatorService,
                       on eventLoop: any EventLoop) -> EventLoopFuture<StatsReport> {
        let cache = operations.cache
        let redisProbe = cache.redis.send(["PING"], on: eventLoop).map { reply -> String? in
            if case .error(let message) = reply { return String(buffer: message) }
            return nil
        }.recover { "\($0)" }
        let postgresProbe = cache.pool.checkConnectivity(on: eventLoop).map { _ -> String? in nil }.recover { "\($0)" }
        let nodesProbe = RedisNode.probeEveryPrimary(cache.redis, on: eventLoop)
        return redisProbe.and(postgresProbe).and(nodesProbe).map { probes, redisNodes in
            let (redisError, postgresError) = probes
            let invalidation = environment.invalidation
            let received = invalidation?.invalidator.receivedCounts ?? [:]
            let applied = invalidation?.invalidator.appliedCounts ?? [:]
            var families: [Family] = []
            for family in KeyFamily.allCases {
                let counters = cache.stats[family]
                let lags = invalidation?.invalidator.familyLags[family]?.percentiles([50, 99])
                families.append(Family(
                    name: family.name, hits: counters.hitCount, negativeHits: counters.negativeHitCount, misses: counters.missCount,
                    hitRate: rate(counters.hitCount + counters.negativeHitCount, counters.missCount),
                    fills: counters.fillCount, absentFills: counters.absentFillCount, queries: counters.queryCount,
                    fillErrors: counters.fillErrorCount, fillLatencyAvgUsec: counters.meanQueryMicroseconds,
                    invalidationsReceived: received[family] ?? 0, invalidationsApplied: applied[family] ?? 0,
                    lagP50Usec: lags?[0], lagP99Usec: lags?[1]))
            }
            let status = invalidation?.listener.status
            let lags = invalidation?.invalidator.lags.percentiles([50, 99, 100])
            let flush = operations.progress.snapshot
            return StatsReport(
                gatewayVersion: environment.gatewayVersion,
                uptimeSeconds: environment.stats.uptimeSeconds,
                health: Health(
                    redis: redisError == nil ? "ok" : "down", postgres: postgresError == nil ? "ok" : "down",
                    listener: status?.state ?? "off", redisError: redisError, postgresError: postgresError),
                families: families,
                hits: cache.stats.totalHits, misses: cache.stats.totalMisses,
                hitRate: rate(cache.stats.totalHits, cache.stats.totalMisses),
                invalidation: Invalidation(
                    status: status?.state ?? "off", notifications: status?.notifications ?? 0,
                    recoveries: status?.recoveries ?? 0, lagP50Usec: lags?[0], lagP99Usec: lags?[1],
                    lagMaxUsec: lags?[2]),
                flush: Flush(
                    inProgress: flush.running, family: flush.currentFamily, keysRemoved: flush.currentRemoved,
                    completed: flush.completedFlushes, keysRemovedTotal: flush.totalRemoved,
                    lastFamily: flush.lastFamily, lastKeys: flush.lastRemoved, lastMs: flush.lastDurationMilliseconds),
                redisNodes: redisNodes)
        }
    }

    private static func rate(_ hits: Int, _ misses: Int) -> Double? {
        let total = hits + misses
        return total == 0 ? nil : (Double(hits) / Double(total) * 10_000).rounded() / 10_000
    }
}
