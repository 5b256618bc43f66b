import CacheModel
import Invalidation
import Postgres
import ReadThrough
import RedisBackend

/// Brings every figure the gateway keeps into its Prometheus registry, at scrape time.
struct MetricsCollector: Sendable {
    let metrics: GatewayMetrics
    let stats: ServerStats
    let registry: ClientRegistry
    let clientMemory: ClientMemory
    let cache: ReadThroughCache
    let redis: RedisClient
    let pool: PostgresPool
    let invalidation: InvalidationService?
    let health: HealthMonitor

    /// The Prometheus text exposition of every metric.
    func scrape() -> [UInt8] {
        metrics.gauge("quicksell_connected_clients", value: Double(registry.count))
        metrics.carry("quicksell_connections_total", total: stats.totalConnectionsReceived)
        metrics.carry("quicksell_rejected_connections_total", total: stats.totalRejectedConnections)
        metrics.carry("quicksell_protocol_errors_total", total: stats.totalProtocolErrors)
        metrics.carry("quicksell_auth_failures_total", total: stats.totalAuthFailures)
        metrics.carry("quicksell_request_timeouts_total", total: stats.totalRequestTimeouts)
        metrics.gauge("quicksell_client_buffer_bytes", value: Double(clientMemory.totalBytes))
        for cause in ClientBufferLimits.Cause.allCases {
            metrics.carry("quicksell_client_buffer_limit_disconnections_total", labels: [("cause", cause.label)],
                          total: clientMemory.disconnections(cause))
        }
        for family in KeyFamily.allCases {
            let counters = cache.stats[family]
            let labels = [("family", family.name)]
            metrics.carry("quicksell_cache_hits_total", labels: labels, total: counters.hitCount)
            metrics.carry("quicksell_cache_misses_total", labels: labels, total: counters.missCount)
            metrics.carry("quicksell_cache_negative_hits_total", labels: labels, total: counters.negativeHitCount)
            metrics.carry("quicksell_cache_fills_total", labels: labels, total: counters.fillCount + counters.absentFillCount)
            metrics.carry("quicksell_postgres_queries_total", labels: labels, total: counters.queryCount)
            metrics.carry("quicksell_postgres_errors_total", labels: labels, total: counters.fillErrorCount)
            metrics.carry("quicksell_fills_shed_total", labels: labels, total: counters.shedCount)
        }
        if let near = cache.near {
            let counters = near.snapshot()
            metrics.carry("quicksell_near_cache_hits_total", total: counters.hits)
            metrics.carry("quicksell_near_cache_misses_total", total: counters.misses)
            metrics.carry("quicksell_near_cache_evictions_total", total: counters.evictions)
            metrics.carry("quicksell_near_cache_stores_total", total: counters.stores)
            metrics.gauge("quicksell_near_cache_bytes", value: Double(counters.bytes))
            metrics.gauge("quicksell_near_cache_entries", value: Double(counters.entries))
        }
        metrics.carry("quicksell_redis_round_trips_total", total: redis.counters.commandsSent)
        metrics.carry("quicksell_redis_errors_total", total: redis.counters.commandsFailed)
        if let invalidation {
            let received = invalidation.invalidator.receivedCounts
            let applied = invalidation.invalidator.appliedCounts
            for family in KeyFamily.allCases {
                let labels = [("family", family.name)]
                metrics.carry("quicksell_invalidations_received_total", labels: labels, total: received[family] ?? 0)
                metrics.carry("quicksell_invalidations_applied_total", labels: labels, total: applied[family] ?? 0)
            }
            let status = invalidation.status
            metrics.carry("quicksell_listener_reconnects_total", total: status.reconnects)
            metrics.carry("quicksell_listener_recoveries_total", total: status.recoveries)
            metrics.carry("quicksell_invalidation_messages_total", total: status.messagesReceived)
            metrics.carry("quicksell_invalidation_family_flushes_total", total: status.familyFlushes)
            metrics.carry("quicksell_invalidation_transaction_replays_total", total: status.transactionReplays)
            if let retained = invalidation.slotRetention?.retainedBytes {
                metrics.gauge("quicksell_replication_slot_retained_bytes", value: Double(retained))
            }
        }
        let health = health.health
        metrics.gauge("quicksell_backend_up", labels: [("backend", "redis")], value: health.redisUp ? 1 : 0)
        metrics.gauge("quicksell_backend_up", labels: [("backend", "postgres")], value: health.postgresUp ? 1 : 0)
        metrics.gauge("quicksell_backend_up", labels: [("backend", "listener")], value: health.listenerUp ? 1 : 0)
        return metrics.registry.emitToBuffer()
    }
}
