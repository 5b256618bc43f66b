import NIOCore
import NIOTLS
import RESP

/// The pipeline end of one TCP connection to Redis: it decodes replies from the bytes read and
/// forwards them and the channel's life events to its `LoopConnection`, and writes what the
/// connection gives it. It decides nothing itself; a handler whose connection has moved on is
/// simply ignored.
final class RedisChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let connection: LoopConnection
    /// Which connect attempt of `connection` created this handler.
    let epoch: UInt64
    private var context: ChannelHandlerContext?
    private var decoder = RESPValueDecoder()
    private var cumulation = ReceiveCumulation()
    /// Set once the reply stream could not be decoded: nothing more is read from it.
    private var failed = false
    /// Over TLS: how long the handshake may take; the connection hears of the channel only
    /// once it is done, so that a refused certificate is a failed connect (retried after a
    /// back-off), never a working connection lost (retried at once).
    private let tlsHandshakeTimeout: TimeAmount?
    private var tlsPending: Bool
    private var tlsDeadline: Scheduled<Void>?

    init(connection: LoopConnection, epoch: UInt64, tlsHandshakeTimeout: TimeAmount? = nil) {
        self.connection = connection
        self.epoch = epoch
        self.tlsHandshakeTimeout = tlsHandshakeTimeout
        self.tlsPending = tlsHandshakeTimeout != nil
    }

    /// Completes when the channel is closed (`nil` once the handler is out of the pipeline).
    var closeFuture: EventLoopFuture<Void>? { context?.channel.closeFuture }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        if let timeout = tlsHandshakeTimeout {
            tlsDeadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
                guard tlsPending else { return }
                tlsPending = false
                connection.handshakeFailed(self, reason: "TLS handshake did not complete within \(RedisClientError.format(timeout))")
                self.context?.close(promise: nil)
            }
        } else {
            connection.channelActive(self)
        }
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if tlsPending, let tlsEvent = event as? TLSUserEvent, case .handshakeCompleted = tlsEvent {
            tlsPending = false
            tlsDeadline?.cancel()
            connection.channelActive(self)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        var buffer = cumulation.merged(with: unwrapInboundIn(data))
        do {
            while let value = try decoder.decode(buffer: &buffer) {
                connection.replyReceived(value, from: self)
            }
            cumulation.keep(buffer)
        } catch {
            failed = true
            cumulation.keep(ByteBuffer())
            connection.channelFailed(self, error: error)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        tlsDeadline?.cancel()
        if tlsPending {
            tlsPending = false
            connection.handshakeFailed(self, reason: "TLS handshake failed: the server closed the connection")
        } else {
            connection.channelInactive(self)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if tlsPending {
            tlsPending = false
            tlsDeadline?.cancel()
            connection.handshakeFailed(self, error: error)
        } else {
            connection.channelFailed(self, error: error)
        }
        context.close(promise: nil)
    }

    /// Writes and flushes `buffer` (one batch of commands).
    func writeAndFlush(_ buffer: ByteBuffer) {
        context?.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    /// Closes the channel; the returned future completes once it is closed.
    @discardableResult
    func close() -> EventLoopFuture<Void>? {
        guard let context else { return nil }
        let closed = context.channel.closeFuture
        context.close(promise: nil)
        return closed
    }
}
