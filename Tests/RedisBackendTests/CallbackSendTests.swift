import NIOCore
import NIOPosix
import RESP
import RedisBackend
import Testing

/// The hit path's callback form of `send`, and replies that cannot be decoded, against the real
/// Redis of `make test` and a listener that answers garbage.
@Suite(.timeLimit(.minutes(1)))
struct CallbackSendTests {
    @Test func callbackSendAnswersOnTheCallersLoopInOrder() async throws {
        let key = uniquePrefix("callback") + ":k"
        try await withClient(try testConfiguration(), loops: 2) { client, group in
            let loop = group.next()
            #expect(try await client.send(["SET", key, "cached", "PX", "60000"], on: loop).get() == .simpleString("OK"))
            let sentBefore = client.counters.commandsSent
            // 100 GETs queued in one tick: each callback runs on the loop, in order, with the value.
            let replies = try await loop.submit { () -> EventLoopFuture<[String]> in
                let promise = loop.makePromise(of: [String].self)
                let collected = NIOLoopBoundBox([String](), eventLoop: loop)
                for index in 0..<100 {
                    client.send(ByteBuffer(string: "GET"), key: ByteBuffer(string: key), on: loop) { result in
                        #expect(loop.inEventLoop)
                        switch result {
                        case .success(.bulkString(let value)): collected.value.append("\(index):\(String(buffer: value))")
                        case .success(let other): collected.value.append("\(index):unexpected \(other)")
                        case .failure(let error): collected.value.append("\(index):error \(error)")
                        }
                        if collected.value.count == 100 { promise.succeed(collected.value) }
                    }
                }
                return promise.futureResult
            }.get().get()
            #expect(replies == (0..<100).map { "\($0):cached" })
            #expect(client.counters.commandsSent - sentBefore == 100)
            #expect(try await client.send(["DEL", key], on: loop).get() == .integer(1))
        }
    }

    @Test func undecodableRepliesFailPendingCommandsAndTheConnectionIsDropped() async throws {
        let listener = try await GarbageListener()
        var configuration = RedisClientConfiguration(host: "127.0.0.1", port: listener.port)
        configuration.clientName = nil
        configuration.commandTimeout = .seconds(5)
        try await withClient(configuration, loops: 1) { client, group in
            let loop = group.next()
            try await client.connectAll()
            let started = ContinuousClock.now
            let outcome = try await loop.submit { () -> EventLoopFuture<Result<RESPValue, any Error>> in
                let promise = loop.makePromise(of: Result<RESPValue, any Error>.self)
                client.send(ByteBuffer(string: "GET"), key: ByteBuffer(string: "user:1"), on: loop) { promise.succeed($0) }
                return promise.futureResult
            }.get().get()
            guard case .failure(let error) = outcome else {
                Issue.record("a reply that is not RESP must fail the command, got \(outcome)")
                return
            }
            #expect(error is RedisClientError)
            // Failed by the broken stream, not by the 5 s command timeout.
            #expect(ContinuousClock.now - started < .seconds(2))
        }
        try await listener.stop()
    }
}

/// A TCP listener on 127.0.0.1 that answers every read with bytes that are not RESP.
final class GarbageListener {
    let port: Int
    private let channel: any Channel

    init() async throws {
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Garbler()) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
    }

    func stop() async throws {
        try await channel.close()
    }

    private final class Garbler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "?this is not RESP\r\n")), promise: nil)
        }
    }
}
