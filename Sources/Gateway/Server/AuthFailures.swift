import Logging
import Synchronization

/// Failed `AUTH` (and `HELLO … AUTH`) attempts: counted for `INFO` and the metrics, logged in
/// aggregate (never the password; at most one line per `logInterval`), and cut short on a
/// connection that keeps guessing.
final class AuthFailures: Sendable {
    /// A connection is closed after this many failed attempts.
    static let perConnectionLimit = 10
    private static let logInterval: Duration = .seconds(10)

    private let stats: ServerStats
    private let pending = Mutex<(count: Int, lastLog: ContinuousClock.Instant?, user: String, client: String)>(
        (0, nil, "", ""))
    private let logger: Logger

    init(stats: ServerStats, logger: Logger) {
        self.stats = stats
        self.logger = logger
    }

    /// Records one failure by `client` for `user`; true when the connection should be closed
    /// (its `failuresOnConnection` reached the limit).
    func record(user: String, client: String, failuresOnConnection: Int) -> Bool {
        stats.authFailures.add(1, ordering: .relaxed)
        let now = ContinuousClock.now
        let report: (count: Int, user: String, client: String)? = pending.withLock { state in
            state.count += 1
            state.user = user
            state.client = client
            if let last = state.lastLog, now - last < Self.logInterval { return nil }
            defer {
                state.count = 0
                state.lastLog = now
            }
            return (state.count, state.user, state.client)
        }
        if let report {
            logger.warning("failed AUTH attempts", metadata: [
                "attempts": "\(report.count)", "latest_user": "\(report.user)", "latest_client": "\(report.client)",
                "since_last_report_s": "\(Self.logInterval.components.seconds)"])
        }
        let closing = failuresOnConnection >= Self.perConnectionLimit
        if closing {
            logger.warning("closing a connection after repeated failed AUTH attempts", metadata: [
                "client": "\(client)", "attempts": "\(failuresOnConnection)"])
        }
        return closing
    }
}
