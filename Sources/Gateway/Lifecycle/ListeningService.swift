import NIOCore
import ServiceLifecycle

/// What the gateway's two listening services (the Redis-protocol server and the HTTP
/// endpoints) share: bind, report the outcome to whoever waits for the port, keep the socket
/// open until graceful shutdown or cancellation, then close it.
enum ListeningService {
    static func listenUntilShutdown(
        reportingTo listening: StartupEvent<Int>, bind: () async throws -> any Channel
    ) async throws {
        let channel: any Channel
        do {
            channel = try await bind()
        } catch {
            listening.fail(error)
            throw error
        }
        try? await withTaskCancellationOrGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onCancelOrGracefulShutdown: {
            channel.close(promise: nil)  // stop accepting
        }
    }
}
