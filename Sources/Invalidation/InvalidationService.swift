import CacheModel
import CoreMetrics
import Foundation
import Logging
import NIOCore
import Postgres
import RedisBackend
import Synchronization

/// The gateway's invalidation machinery: the invalidator and the listener of the source it
/// chose at start-up (`SourceSelection`), started and stopped together, and what
/// `INFO invalidation` reports about them.
public final class InvalidationService: Sendable {
    public let invalidator: Invalidator
    package let restartGuard: RedisRestartGuard
    private let postgresURL: String
    private let settings: InvalidationSettings
    private let logger: Logger
    /// The WAL the slot holds back (read only while the source is wal).
    private let retention: SlotRetention
    private let running = Mutex<(choice: SourceSelection.Choice, listener: any SourceListener)?>(nil)

    package init(postgresURL: String, redis: RedisClient, target: any InvalidationTarget, settings: InvalidationSettings,
                 metricsFactory: (any MetricsFactory)? = nil, eventLoop: any EventLoop,
                 logger: Logger) {
        invalidator = Invalidator(
            redis: redis, fills: target, settings: settings, metricsFactory: metricsFactory, eventLoop: eventLoop, logger: logger)
        restartGuard = RedisRestartGuard(invalidator: invalidator, logger: logger)
        self.postgresURL = postgresURL
        self.settings = settings
        self.logger = logger
        retention = SlotRetention(slot: settings.replicationSlot, warningBytes: settings.slotRetainedWarningBytes,
                                  logger: logger)
    }

    /// Chooses the source, logs the choice in one line, starts its listener and returns once
    /// the listener has caught up (or failed, or its start-up time passed). Throws when the
    /// configured source cannot work on this server, naming what to change.
    package func start() async throws {
        let choice = try await Self.choose(settings: settings, url: postgresURL)
        logger.notice("invalidation source: \(choice.source) (\(choice.reason))")
        let listener: any SourceListener = switch choice.source {
        case .wal: InvalidationListener(url: postgresURL, invalidator: invalidator, settings: settings, retention: retention,
                                        logger: logger)
        case .notify, .auto: NotifyListener(url: postgresURL, invalidator: invalidator,
                                            silenceLimit: .seconds(settings.listenerTimeoutSeconds), logger: logger)
        }
        running.withLock { $0 = (choice, listener) }
        await listener.start()
    }

    /// Stops the listener's thread; returns once it has exited.
    package func stop() async {
        await running.withLock { $0 }?.listener.stop()
    }

    /// The source in use; nil before `start()` chose it.
    package var source: InvalidationSource? { running.withLock { $0?.choice.source } }

    /// The slot's retained WAL, to be read periodically; nil unless the source is wal (the
    /// notify source has no slot).
    package var slotRetention: SlotRetention? { source == .wal ? retention : nil }

    /// The listener's state (not connected before `start()`).
    public var status: ListenerStatus {
        running.withLock { $0 }?.listener.status ?? ListenerStatus(lastError: "choosing the invalidation source")
    }

    /// What `/readyz` says while the listener is connected but not caught up.
    package var catchingUpProblem: String {
        running.withLock { $0 }?.listener.catchingUpProblem ?? "choosing the invalidation source"
    }

    /// Asks the server (on a thread of its own: libpq blocks) and decides.
    private static func choose(settings: InvalidationSettings, url: String) async throws -> SourceSelection.Choice {
        let asked: Result<InvalidationServerFacts, any Error> = await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: Result {
                    let connection = try PostgresConnection(
                        url: url, applicationName: "quicksell-gateway source check", connectTimeoutSeconds: 2)
                    return try InvalidationServerFacts.read(connection, slot: settings.replicationSlot)
                })
            }
            thread.name = "quicksell-invalidation-source-check"
            thread.start()
        }
        switch asked {
        case .success(let facts):
            return try SourceSelection.choose(settings.source, facts: facts).get()
        case .failure(let error):
            return SourceSelection.unreachable(settings.source, address: redactedURL(url), error: "\(error)")
        }
    }

    /// `INFO invalidation` lines.
    package var infoLines: [(String, String)] {
        let current = running.withLock { $0 }
        let status = self.status
        var lines: [(String, String)] = [
            ("invalidation_status", status.state),
            ("invalidation_source", current.map { "\($0.choice.source)" } ?? ""),
            ("invalidation_source_reason", current.map { Self.oneLine($0.choice.reason) } ?? ""),
            ("invalidation_source_configured", "\(settings.source)"),
            ("listener_connected", status.connected ? "1" : "0"),
            ("listener_caught_up", status.caughtUp ? "1" : "0"),
        ]
        lines += current?.listener.sourceInfoLines ?? []
        lines += [
            ("listener_reconnects", String(status.reconnects)),
            ("listener_last_error", status.lastError.map { Self.oneLine(String($0.prefix(200))) } ?? ""),
            ("invalidation_messages_received", String(status.messagesReceived)),
            ("recoveries", String(status.recoveries)),
            ("recovered_keys", String(status.replayedKeys)),
            ("recovery_flushes", String(status.flushes)),
            ("invalidation_family_flushes", String(status.familyFlushes)),
            ("invalidation_transaction_replays", String(status.transactionReplays)),
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

    private static func oneLine(_ text: String) -> String {
        String(text.map { $0 == "\r" || $0 == "\n" ? " " : $0 })
    }
}
