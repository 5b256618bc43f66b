import Invalidation
import Logging
import ServiceLifecycle

/// The invalidation listener as a `Service`: started first (start-up waits until it has
/// replayed what its replication slot held), stopped last of the services.
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
        await invalidation.start()
        started.succeed(())
        try? await gracefulShutdown()
        await invalidation.stop()
        logger.debug("invalidation listener stopped")
    }
}
