import NIOCore
import NIOTLS

/// Closes a TLS connection whose handshake has not completed within the request deadline
/// (`server.request_timeout_seconds`). The request deadline itself starts with the first
/// request byte, which a client stalled in its handshake never sends: without this, a
/// connection that sends half a ClientHello, or nothing, would hold its place for ever (the
/// idle timeout is off by default). Removes itself once the handshake is done.
final class TLSHandshakeDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let limit: TimeAmount
    private let onTimeout: @Sendable () -> Void
    private var timer: Scheduled<Void>?

    init(limit: TimeAmount, onTimeout: @escaping @Sendable () -> Void) {
        self.limit = limit
        self.onTimeout = onTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        let onTimeout = self.onTimeout
        timer = context.eventLoop.scheduleTask(in: limit) {
            onTimeout()
            channel.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tlsEvent = event as? TLSUserEvent, case .handshakeCompleted = tlsEvent {
            timer?.cancel()
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }
}
