import NIOCore
import NIOEmbedded
import RESP
import Testing

@testable import Gateway

/// Counts the `read`s that pass it on their way to the channel, to see back-pressure hold them.
private final class ReadCounter: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    private(set) var reads = 0

    func read(context: ChannelHandlerContext) {
        reads += 1
        context.read()
    }
}

/// A client connection handler on an `EmbeddedChannel`: no socket, no server, no thread. The
/// environment has no backends (`cache: nil`), so only commands that need none are answered.
private struct Connection {
    let channel = EmbeddedChannel()
    let registry = ClientRegistry(maxClients: 4)
    let stats = ServerStats()
    let reads = ReadCounter()

    init(maxPendingReplies: Int = 1024) throws {
        let environment = ServerEnvironment(
            configuration: ServerConfiguration(maxPendingRepliesPerClient: maxPendingReplies), registry: registry,
            stats: stats, boundPort: 6379, cache: nil)
        let record = try #require(registry.admit(channel: channel, remoteAddress: "client", localAddress: "gateway"))
        let pipeline = channel.pipeline.syncOperations
        try pipeline.addHandler(reads)
        try pipeline.addHandler(ClientConnectionHandler(
            dispatcher: CommandDispatcher(environment: environment), registry: registry, record: record,
            maxPendingReplies: maxPendingReplies, flushList: LoopFlushList(eventLoop: channel.embeddedEventLoop),
            admission: LoopAdmission(eventLoop: channel.embeddedEventLoop, capacity: ClientBufferLimits.default.inFlightBytesPerLoop)))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 6379)).wait()
    }

    /// `text` arrives in one read.
    func receive(_ text: String) throws {
        try channel.writeInbound(ByteBuffer(string: text))
    }

    /// Every write the handler made, one string each.
    func writes() throws -> [String] {
        var writes: [String] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { writes.append(String(buffer: buffer)) }
        return writes
    }
}

@Suite struct ClientConnectionHandlerTests {
    @Test func pipelinedRequestsAreAnsweredInOrderInOneWrite() throws {
        let connection = try Connection()
        try connection.receive(
            "PING\r\n*2\r\n$4\r\nECHO\r\n$5\r\nfirst\r\n*2\r\n$3\r\nGET\r\n$6\r\nuser:1\r\nECHO second\r\n")
        #expect(try connection.writes() == [
            "+PONG\r\n$5\r\nfirst\r\n-ERR the gateway has no backends configured\r\n$6\r\nsecond\r\n"
        ])
        #expect(connection.channel.isActive)
        #expect(connection.stats.totalErrorReplies == 1)
    }

    @Test func aRequestSplitAcrossReadsIsAnsweredOnceComplete() throws {
        let connection = try Connection()
        try connection.receive("*2\r\n$4\r\nECHO\r\n$5\r\nsp")
        #expect(try connection.writes() == [])
        try connection.receive("lit\r\nPING\r\n")
        #expect(try connection.writes() == ["$5\r\nsplit\r\n+PONG\r\n"])
    }

    @Test func quitIsAnsweredAfterEarlierRepliesThenTheConnectionCloses() throws {
        let connection = try Connection()
        try connection.receive("PING\r\nQUIT\r\nPING\r\n")
        #expect(try connection.writes() == ["+PONG\r\n+OK\r\n"], "nothing after QUIT is run")
        #expect(!connection.channel.isActive)
        #expect(connection.registry.count == 0)
    }

    @Test func aProtocolErrorIsAnsweredAfterEarlierRepliesThenTheConnectionCloses() throws {
        let connection = try Connection()
        try connection.receive("PING\r\n*1\r\n$x\r\nPING\r\n")
        #expect(try connection.writes() == ["+PONG\r\n-ERR Protocol error: invalid bulk length\r\n"])
        #expect(!connection.channel.isActive)
        #expect(connection.stats.totalProtocolErrors == 1)
    }

    @Test func drainWithNothingOwedClosesTheConnection() throws {
        let connection = try Connection()
        try connection.receive("PING\r\n")
        #expect(try connection.writes() == ["+PONG\r\n"])
        connection.channel.pipeline.fireUserInboundEventTriggered(DrainEvent())
        #expect(!connection.channel.isActive)
        #expect(connection.registry.count == 0)
    }

    @Test func readsAreHeldWhileTheChannelIsUnwritable() throws {
        let connection = try Connection()
        let channel = connection.channel
        channel.read()
        #expect(connection.reads.reads == 1)

        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        channel.read()
        channel.read()
        #expect(connection.reads.reads == 1, "back-pressure holds the reads")

        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        #expect(connection.reads.reads == 2, "the held read goes on once")
        channel.read()
        #expect(connection.reads.reads == 3)
    }
}
