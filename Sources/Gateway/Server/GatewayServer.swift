import Invalidation
import Logging
import NIOCore
import NIOPosix
import ReadThrough
import RESP
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The Redis-protocol server the API tier connects to.
///
/// Classic NIO handlers rather than async sequences: the hit path stays on the
/// connection's event loop with no task or thread hop.
public final class GatewayServer: Sendable {
    public let configuration: ServerConfiguration
    public let stats: ServerStats
    public let registry: ClientRegistry
    private let group: MultiThreadedEventLoopGroup
    private let ownsGroup: Bool
    private let logger: Logger
    private let channel: any Channel
    /// The address actually bound; its port differs from the configuration's when that was 0.
    public let localPort: Int
    private let draining = Atomic<Bool>(false)

    /// Binds and starts serving; returns once the listening socket is open.
    public static func start(
        configuration: ServerConfiguration,
        group: MultiThreadedEventLoopGroup? = nil,
        cache: ReadThroughCache? = nil,
        invalidation: InvalidationService? = nil,
        metrics: GatewayMetrics? = nil,
        health: HealthMonitor? = nil,
        logger: Logger = Logger(label: "quicksell.gateway")
    ) async throws -> GatewayServer {
        let ownsGroup = group == nil
        let group = group ?? MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.eventLoopThreads))
        let stats = ServerStats()
        let registry = ClientRegistry(maxClients: configuration.maxClients)
        let environmentBox = EnvironmentBox()
        let flushLists = LoopFlushLists(group: group)

        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            // NIO keeps each connection's receive buffer for reuse: start it small so that
            // thousands of idle clients cost little; it grows after reads that fill it.
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(
                minimum: 64, initial: 512, maximum: 65_536))
            .childChannelOption(.autoRead, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try Self.initialize(
                        channel, environment: environmentBox.environment,
                        flushList: flushLists.list(for: channel.eventLoop), logger: logger)
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        } catch {
            if ownsGroup { try? await group.shutdownGracefully() }
            throw GatewayServerError.cannotBind(host: configuration.host, port: configuration.port, reason: "\(error)")
        }
        let localPort = channel.localAddress?.port ?? configuration.port
        environmentBox.environment = ServerEnvironment(
            configuration: configuration, registry: registry, stats: stats, boundPort: localPort, cache: cache,
            invalidation: invalidation, metrics: metrics, health: health)
        logger.info("listening", metadata: ["host": "\(configuration.host)", "port": "\(localPort)"])
        return GatewayServer(
            configuration: configuration, stats: stats, registry: registry, group: group,
            ownsGroup: ownsGroup, logger: logger, channel: channel, localPort: localPort)
    }

    private init(
        configuration: ServerConfiguration, stats: ServerStats, registry: ClientRegistry,
        group: MultiThreadedEventLoopGroup, ownsGroup: Bool, logger: Logger, channel: any Channel, localPort: Int
    ) {
        self.configuration = configuration
        self.stats = stats
        self.registry = registry
        self.group = group
        self.ownsGroup = ownsGroup
        self.logger = logger
        self.channel = channel
        self.localPort = localPort
    }

    private static func initialize(
        _ channel: any Channel, environment: ServerEnvironment?, flushList: LoopFlushList, logger: Logger
    ) throws {
        guard let environment else {
            throw GatewayServerError.notReady  // a connect raced the bind's completion: refuse it
        }
        let pipeline = channel.pipeline.syncOperations
        guard let record = environment.registry.admit(
            channel: channel,
            remoteAddress: channel.remoteAddress.map(Self.describe) ?? "?",
            localAddress: channel.localAddress.map(Self.describe) ?? "?")
        else {
            environment.stats.rejectedConnections.add(1, ordering: .relaxed)
            try pipeline.addHandler(ConnectionRejector())
            return
        }
        environment.stats.connectionsReceived.add(1, ordering: .relaxed)  // as Redis: rejected ones not included
        let configuration = environment.configuration
        if configuration.idleTimeoutSeconds > 0 {
            try pipeline.addHandler(IdleStateHandler(allTimeout: .seconds(Int64(configuration.idleTimeoutSeconds))))
        }
        try pipeline.addHandler(ClientConnectionHandler(
            dispatcher: CommandDispatcher(environment: environment),
            registry: environment.registry,
            record: record,
            maxPendingReplies: configuration.maxPendingRepliesPerClient,
            flushList: flushList))
    }

    private static func describe(_ address: SocketAddress) -> String {
        "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
    }

    /// Graceful stop: no new connections; every connection reads nothing more, gets the
    /// replies to what it already sent, then is closed. Connections still open after
    /// `timeout` are closed anyway. Returns the number of connections cut off.
    public func drain(timeout: TimeAmount) async -> Int {
        guard draining.exchange(true, ordering: .relaxed) == false else {
            // Already draining (both the signal handler and the shutdown ask): wait for it.
            while registry.count > 0 { try? await Task.sleep(for: .milliseconds(10)) }
            return 0
        }
        if channel.isActive { try? await channel.close() }
        for record in registry.all {
            record.channel.pipeline.fireUserInboundEventTriggered(DrainEvent())
        }
        let deadline = NIODeadline.now() + timeout
        while registry.count > 0 && NIODeadline.now() < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        let remaining = registry.all
        for record in remaining { record.channel.close(promise: nil) }
        logger.info("drained", metadata: [
            "commands_processed": "\(stats.totalCommandsProcessed)", "cut_off": "\(remaining.count)"])
        return remaining.count
    }

    /// Stops accepting, closes the listening socket and, if it owns it, the event loops.
    public func shutdown() async {
        guard channel.isActive else { return }
        try? await channel.close()
        if ownsGroup { try? await group.shutdownGracefully() }
        logger.info("stopped")
    }

    /// Runs until the listening socket closes.
    public func waitUntilClosed() async throws {
        try await channel.closeFuture.get()
    }
}

/// Why the server could not start.
public enum GatewayServerError: Error, CustomStringConvertible {
    case cannotBind(host: String, port: Int, reason: String)
    case notReady

    public var description: String {
        switch self {
        case let .cannotBind(host, port, reason): return "cannot listen on \(host):\(port): \(reason)"
        case .notReady: return "server is still starting"
        }
    }
}

/// Hands the environment, made after the bind reports the real port, to the child initializer.
private final class EnvironmentBox: Sendable {
    private let value = Mutex<ServerEnvironment?>(nil)
    var environment: ServerEnvironment? {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}
