import NIOCore

/// Answers a client over the limit with Redis's error and closes it.
final class ConnectionRejector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelActive(context: ChannelHandlerContext) {
        let reply = context.channel.allocator.buffer(string: "-ERR max number of clients reached\r\n")
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(reply)).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}
