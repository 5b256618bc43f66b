import NIOCore
import NIOPosix
import RESP
import RedisBackend
import Testing

/// The hit path's form of `send` (a reply object and a tag, no closure per command), and
/// replies that cannot be decoded, against the real Redis of `make test` and a listener that
/// answers garbage.
@Suite(.timeLimit(.minutes(1)))
struct ReceiverSendTests {
    /// Collects `tag:value` lines on its loop and completes once it has `expected` of them.
    final class Collector: RedisReplyReceiver {
        let loop: any EventLoop
        let expected: Int
        let done: EventLoopPromise<[String]>
        var lines: [String] = []

        init(loop: any EventLoop, expected: Int) {
            self.loop = loop
            self.expected = expected
            self.done = loop.makePromise(of: [String].self)
        }

        func redisReplied(_ result: Result<RESPValue, any Error>, tag: Int) {
            #expect(loop.inEventLoop)
            switch result {
            case .success(.bulkString(let value)): lines.append("\(tag):\(String(buffer: value))")
            case .success(let other): lines.append("\(tag):unexpected \(other)")
            case .failure(let error): lines.append("\(tag):error \(error is RedisClientError)")
            }
            if lines.count == expected { done.succeed(lines) }
        }
    }

    @Test func receiverGetsEveryReplyWithItsTagInOrder() async throws {
        let key = uniquePrefix("receiver") + ":k"
        try await withClient(try testConfiguration(), loops: 2) { client, group in
            let loop = group.next()
            #expect(try await client.send(["SET", key, "cached", "PX", "60000"], on: loop).get() == .simpleString("OK"))
            let sentBefore = client.counters.commandsSent
            // 100 GETs queued in one tick: each reply reaches the receiver on the loop, in order.
            let replies = try await loop.submit { () -> EventLoopFuture<[String]> in
                let collector = Collector(loop: loop, expected: 100)
                for tag in 0..<100 {
                    client.send(ByteBuffer(string: "GET"), key: ByteBuffer(string: key), on: loop, receiver: collector, tag: tag * 3)
                }
                return collector.done.futureResult
            }.get().get()
            #expect(replies == (0..<100).map { "\($0 * 3):cached" })
            #expect(client.counters.commandsSent - sentBefore == 100)
            #expect(try await client.send(["DEL", key], on: loop).get() == .integer(1))
        }
    }

    @Test func undecodableRepliesFailTheReceiversCommands() async throws {
        let listener = try await GarbageListener()
        var configuration = RedisClientConfiguration(host: "127.0.0.1", port: listener.port)
        configuration.clientName = nil
        configuration.commandTimeout = .seconds(30)
        try await withClient(configuration, loops: 1) { client, group in
            let loop = group.next()
            try await client.connectAll()
            let started = ContinuousClock.now
            let replies = try await loop.submit { () -> EventLoopFuture<[String]> in
                let collector = Collector(loop: loop, expected: 2)
                client.send(ByteBuffer(string: "GET"), key: ByteBuffer(string: "user:1"), on: loop, receiver: collector, tag: 7)
                client.send(ByteBuffer(string: "GET"), key: ByteBuffer(string: "user:2"), on: loop, receiver: collector, tag: 8)
                return collector.done.futureResult
            }.get().get()
            #expect(replies == ["7:error true", "8:error true"])
            // Failed by the broken stream, not by the 30 s command timeout.
            #expect(ContinuousClock.now - started < .seconds(10))
        }
        try await listener.stop()
    }
}
