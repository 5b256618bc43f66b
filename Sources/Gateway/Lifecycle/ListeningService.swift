import NIOCore
import ServiceLifecycle

/// What the gateway's two listening services (the Redis-protocol server and the HTTP
/// endpoints) share: bind, report the outcome to whoever waits for the port, keep the socket
/// open until graceful shutdown or cancellation, then close it.
enum ListeningService {
    /// `bind` opens one socket or more (the gateway's plaintext and TLS ports); all of them
    /// stay open until shutdown.
    static func listenUntilShutdown(
        reportingTo listening: StartupEvent<Int>, bind: () async throws -> [any Channel]
    ) async throws {
        let channels: [any Channel]
        do {
            channels = try await bind()
        } catch {
            listening.fail(error)
            throw error
        }
        try? await withTaskCancellationOrGracefulShutdownHandler {
            for channel in channels { try await channel.closeFuture.get() }
        } onCancelOrGracefulShutdown: {
            for channel in channels { channel.close(promise: nil) }  // stop accepting
        }
    }
}
