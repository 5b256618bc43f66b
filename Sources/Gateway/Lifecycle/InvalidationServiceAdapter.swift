import Invalidation
import Logging
import ServiceLifecycle

/// The invalidation listener as a `Service`: started first (start-up waits until it has
/// chosen its source and caught up), stopped last of the services. A source that cannot
/// work on the server fails start-up with the reason.
///
/// The one place the gateway starts and stops `InvalidationService`.
final class InvalidationServiceAdapter: Service, Sendable, CustomStringConvertible {
    let invalidation: InvalidationService
    /// Set once the listener's first connection has caught up (or failed, or timed out).
    let started = StartupEvent<Void>()
    private let logger: Logger

    var description: String { "InvalidationService" }

    init(_ invalidation: InvalidationService, logger: Logger) {
        self.invalidation = invalidation
        self.logger = logger
    }

    func run() async throws {
        do {
            try await invalidation.start()
        } catch {
            started.fail(error)
            throw error
        }
        started.succeed(())
        try? await gracefulShutdown()
        await invalidation.stop()
        logger.debug("invalidation listener stopped")
    }
}
