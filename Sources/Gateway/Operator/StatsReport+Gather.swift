import NIOCore
import RESP
import CacheModel

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
            let status = invalidation?.status
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
                    status: status?.state ?? "off", notifications: status?.messagesReceived ?? 0,
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
