import Logging
import Synchronization

/// Logs a recurring problem once per cause: the first failure with a given message, and
/// a notice when it clears, instead of one line per request.
package final class LogOnce: Sendable {
    private let last = Mutex<String?>(nil)
    private let logger: Logger
    private let subject: String

    package init(logger: Logger, subject: String) {
        self.logger = logger
        self.subject = subject
    }

    package func failure(_ error: any Error, metadata: Logger.Metadata = [:]) {
        let cause = "\(error)"
        let isNew = last.withLock { last -> Bool in
            defer { last = cause }
            return last != cause
        }
        if isNew {
            var metadata = metadata
            metadata["error"] = "\(cause)"
            logger.warning("\(subject) failed", metadata: metadata)
        }
    }

    package func success() {
        let hadFailed = last.withLock { last -> Bool in
            defer { last = nil }
            return last != nil
        }
        if hadFailed { logger.notice("\(subject) works again") }
    }
}
