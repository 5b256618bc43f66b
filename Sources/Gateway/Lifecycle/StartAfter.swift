import ServiceLifecycle

/// A service that starts only once `prerequisite` has returned (e.g. once the invalidation
/// listener has caught up, so that nothing is served from a cache that recovery is about to
/// clean). A graceful shutdown or a cancellation while it waits ends it without starting.
struct StartAfter<Base: Service>: Service, CustomStringConvertible {
    let base: Base
    let prerequisite: @Sendable () async throws -> Void

    var description: String { String(describing: base) }

    func run() async throws {
        let prerequisite = self.prerequisite
        do {
            try await cancelWhenGracefulShutdown { try await prerequisite() }
        } catch is CancellationError {
            return
        }
        guard !Task.isShuttingDownGracefully, !Task.isCancelled else { return }
        try await base.run()
    }
}
