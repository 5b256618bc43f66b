import Logging
import NIOCore
import Synchronization

/// Notices that Redis restarted (its `run_id` changed) and flushes every family then.
///
/// A Redis with persistence comes back with what its last save held, which may include
/// values invalidated after that save, and writers sets that are out of date; without
/// persistence the flush finds nothing. Either way Redis content from before the restart
/// is not trusted. The health probe reports the `run_id` every 250 ms.
package final class RedisRestartGuard: Sendable {
    private let invalidator: Invalidator
    private let logger: Logger
    private let knownRunID = Mutex<String?>(nil)
    private let restarts = Atomic<Int>(0)

    package init(invalidator: Invalidator, logger: Logger) {
        self.invalidator = invalidator
        self.logger = logger
    }

    /// Restarts noticed so far.
    package var restartCount: Int { restarts.load(ordering: .relaxed) }

    /// Called with the `run_id` of each successful probe.
    package func observe(runID: String) {
        let previous = knownRunID.withLock { known -> String? in
            defer { known = runID }
            return known
        }
        guard let previous, previous != runID else { return }
        invalidator.detachAllFills()
        restarts.add(1, ordering: .relaxed)
        logger.notice("Redis restarted; flushing every family, its content may predate invalidations",
                      metadata: ["run_id": "\(runID)"])
        invalidator.flushAllFamilies().whenComplete { [self] result in
            switch result {
            case .success(let removed):
                logger.notice("flushed after the Redis restart", metadata: ["keys": "\(removed)"])
            case .failure(let error):
                // Try again at the next probe.
                knownRunID.withLock { $0 = previous }
                logger.warning("flush after the Redis restart failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// The `run_id:` field of an `INFO server` reply.
    package static func runID(inInfo text: String) -> String? {
        for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix("run_id:") {
            return String(line.dropFirst("run_id:".count))
        }
        return nil
    }
}
