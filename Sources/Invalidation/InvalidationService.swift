import CacheModel
import CoreMetrics
import Logging
import NIOCore
import RedisBackend

/// The gateway's invalidation machinery: the invalidator and its listener, started and
/// stopped together, and what `INFO invalidation` reports about them.
public final class InvalidationService: Sendable {
    public let invalidator: Invalidator
    public let listener: InvalidationListener
    package let restartGuard: RedisRestartGuard

    package init(postgresURL: String, redis: RedisClient, target: any InvalidationTarget, settings: InvalidationSettings,
         metricsFactory: (any MetricsFactory)? = nil, eventLoop: any EventLoop,
         logger: Logger) {
        invalidator = Invalidator(
            redis: redis, fills: target, settings: settings, metricsFactory: metricsFactory, eventLoop: eventLoop, logger: logger)
        listener = InvalidationListener(url: postgresURL, invalidator: invalidator, settings: settings, logger: logger)
        restartGuard = RedisRestartGuard(invalidator: invalidator, logger: logger)
    }

    /// Starts the listener's thread; returns once it has caught up with what its slot held
    /// (or failed, or its start-up time passed).
    package func start() async { await listener.start() }

    /// Stops the listener's thread (it confirms what was applied first); returns once it has exited.
    package func stop() async { await listener.stop() }

    /// `INFO invalidation` lines.
    package var infoLines: [(String, String)] {
        let status = listener.status
        var lines: [(String, String)] = [
            ("invalidation_status", status.state),
            ("listener_connected", status.connected ? "1" : "0"),
            ("listener_caught_up", status.caughtUp ? "1" : "0"),
            ("replication_slot", listener.slotName),
            ("replication_confirmed_lsn", status.confirmedPositionText),
            ("listener_reconnects", String(status.reconnects)),
            ("listener_last_error", status.lastError.map { String($0.prefix(200).map { $0 == "\r" || $0 == "\n" ? " " : $0 }) } ?? ""),
            ("invalidation_messages_received", String(status.messagesReceived)),
            ("recoveries", String(status.recoveries)),
            ("recovered_keys", String(status.replayedKeys)),
            ("recovery_flushes", String(status.flushes)),
            ("redis_restarts", String(restartGuard.restartCount)),
        ]
        let lags = invalidator.lags.percentiles([50, 99, 100])
        lines.append(("invalidation_lag_samples", String(invalidator.lags.count)))
        lines.append(("invalidation_lag_p50_usec", lags.map { String($0[0]) } ?? ""))
        lines.append(("invalidation_lag_p99_usec", lags.map { String($0[1]) } ?? ""))
        lines.append(("invalidation_lag_max_usec", lags.map { String($0[2]) } ?? ""))
        let received = invalidator.receivedCounts
        let applied = invalidator.appliedCounts
        for family in KeyFamily.allCases {
            lines.append(("invalidations_\(family.infoName)",
                          "received=\(received[family] ?? 0),applied=\(applied[family] ?? 0)"))
        }
        return lines
    }
}
