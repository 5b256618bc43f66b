import Invalidation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ReadThrough
import RESP
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The Redis-protocol server the API tier connects to.
///
/// Classic NIO handlers rather than async sequences: the hit path stays on the
/// connection's event loop with no task or thread hop.
///
/// A `Service`: it listens from its start until graceful shutdown, then stops accepting and
/// drains its clients (bounded by the drain timeout).
public final class GatewayServer: Service, Sendable, CustomStringConvertible {
    public let configuration: ServerConfiguration
    public let stats: ServerStats
    public let registry: ClientRegistry
    /// The bytes every client connection holds, against the buffer limits.
    let clientMemory: ClientMemory
    private let group: MultiThreadedEventLoopGroup
    private let ownsGroup: Bool
    private let drainTimeout: TimeAmount
    private let logger: Logger
    private let environmentBox = EnvironmentBox()
    private let backends: CommandBackends
    /// Set with the bound port once the socket listens, or with why it could not.
    let listening = StartupEvent<Int>()
    private let listeningChannels = Mutex<[any Channel]>([])
    private let boundPort = Atomic<Int>(0)
    private let boundTLSPort = Atomic<Int>(0)
    /// The TLS port's context, swapped by `reloadTLS`; nil without a TLS port.
    private let tlsContext = Mutex<TLSContextHolder?>(nil)

    public var description: String { "GatewayServer" }

    /// The plaintext port actually bound (0 until then, or without a plaintext listener); it
    /// differs from the configuration's when that was 0.
    public var localPort: Int { boundPort.load(ordering: .relaxed) }
    /// The TLS port actually bound (0 until then, or without a TLS listener).
    public var localTLSPort: Int { boundTLSPort.load(ordering: .relaxed) }

    /// What the commands reach beyond the server.
    private struct CommandBackends: Sendable {
        let cache: ReadThroughCache?
        let invalidation: InvalidationService?
        let metrics: GatewayMetrics?
        let health: HealthMonitor?
    }

    /// A server not yet listening: `run()` (as a service) or `start` binds it.
    init(
        configuration: ServerConfiguration, group: MultiThreadedEventLoopGroup, ownsGroup: Bool = false,
        cache: ReadThroughCache? = nil, invalidation: InvalidationService? = nil, metrics: GatewayMetrics? = nil,
        health: HealthMonitor? = nil, drainTimeout: TimeAmount = .zero,
        logger: Logger = Logger(label: "quicksell.gateway")
    ) {
        self.configuration = configuration
        self.stats = ServerStats()
        self.registry = ClientRegistry(maxClients: configuration.maxClients)
        self.clientMemory = ClientMemory(limits: configuration.bufferLimits, logger: logger)
        self.group = group
        self.ownsGroup = ownsGroup
        self.drainTimeout = drainTimeout
        self.logger = logger
        self.backends = CommandBackends(cache: cache, invalidation: invalidation, metrics: metrics, health: health)
    }

    /// Binds and starts serving outside a service group; returns once the listening socket
    /// is open. Stop it with `shutdown()`.
    public static func start(
        configuration: ServerConfiguration,
        group: MultiThreadedEventLoopGroup? = nil,
        cache: ReadThroughCache? = nil,
        invalidation: InvalidationService? = nil,
        metrics: GatewayMetrics? = nil,
        health: HealthMonitor? = nil,
        logger: Logger = Logger(label: "quicksell.gateway")
    ) async throws -> GatewayServer {
        let server = GatewayServer(
            configuration: configuration,
            group: group ?? MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.eventLoopThreads)),
            ownsGroup: group == nil, cache: cache, invalidation: invalidation, metrics: metrics, health: health,
            logger: logger)
        do {
            _ = try await server.bind()
        } catch {
            if server.ownsGroup { try? await server.group.shutdownGracefully() }
            throw error
        }
        return server
    }

    /// Serves until graceful shutdown: then stops accepting and drains the clients within the
    /// drain timeout. On cancellation the clients are cut off at once.
    public func run() async throws {
        try await ListeningService.listenUntilShutdown(reportingTo: listening, bind: bind)
        _ = await drain(timeout: Task.isCancelled ? .zero : drainTimeout)
    }

    /// Opens the listening sockets (plaintext, TLS or both); returns them once they accept.
    private func bind() async throws -> [any Channel] {
        guard configuration.plaintext || configuration.tls != nil else {
            throw GatewayServerError.nothingToListenOn
        }
        let tls = try configuration.tls.map(TLSContextHolder.init(settings:))
        let children = ChildSetup(
            environmentBox: environmentBox,
            flushLists: PerLoop(group: group) { LoopFlushList(eventLoop: $0) },
            admissions: PerLoop(group: group) { [limits = configuration.bufferLimits] in
                LoopAdmission(eventLoop: $0, capacity: limits.inFlightBytesPerLoop, maxMisses: limits.missesInFlightPerLoop)
            },
            logger: logger)
        var channels: [any Channel] = []
        var plaintextPort = 0, tlsPort = 0
        do {
            if configuration.plaintext {
                let channel = try await listen(port: configuration.port, tls: nil, children: children)
                plaintextPort = channel.localAddress?.port ?? configuration.port
                channels.append(channel)
            }
            if let tls {
                let channel = try await listen(port: tls.settings.port, tls: tls, children: children)
                tlsPort = channel.localAddress?.port ?? tls.settings.port
                channels.append(channel)
            }
        } catch {
            for channel in channels { try? await channel.close() }
            throw error
        }
        environmentBox.environment = ServerEnvironment(
            configuration: configuration, registry: registry, stats: stats, clientMemory: clientMemory, boundPort: plaintextPort,
            boundTLSPort: tlsPort,
            cache: backends.cache, invalidation: backends.invalidation, metrics: backends.metrics,
            health: backends.health, logger: logger)
        boundPort.store(plaintextPort, ordering: .relaxed)
        boundTLSPort.store(tlsPort, ordering: .relaxed)
        tlsContext.withLock { $0 = tls }
        listeningChannels.withLock { $0 = channels }
        var metadata: Logger.Metadata = ["host": "\(configuration.host)"]
        if configuration.plaintext { metadata["port"] = "\(plaintextPort)" }
        if tls != nil { metadata["tls_port"] = "\(tlsPort)" }
        logger.info("listening", metadata: metadata)
        listening.succeed(configuration.plaintext ? plaintextPort : tlsPort)
        return channels
    }

    /// What every accepted connection, on either port, is set up with.
    private struct ChildSetup: Sendable {
        let environmentBox: EnvironmentBox
        let flushLists: PerLoop<LoopFlushList>
        let admissions: PerLoop<LoopAdmission>
        let logger: Logger
    }

    /// One listening socket. Both ports run the same pipeline; the TLS port puts the TLS
    /// handler first, so that everything after it (refusals included) is encrypted.
    private func listen(port: Int, tls: TLSContextHolder?, children: ChildSetup) async throws -> any Channel {
        var bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 4)
            // NIO keeps each connection's receive buffer for reuse: start it small so that
            // thousands of idle clients cost little; it grows after reads that fill it.
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(
                minimum: 64, initial: 512, maximum: 65_536))
            .childChannelOption(.autoRead, value: true)
        if configuration.socketSendBufferBytes > 0 {
            // A fixed send buffer: with the kernel's autotuning each client that never reads
            // absorbs megabytes of replies, all produced by the event loop the others share.
            bootstrap = bootstrap.childChannelOption(
                .socketOption(.so_sndbuf), value: SocketOptionValue(configuration.socketSendBufferBytes))
        }
        bootstrap = bootstrap
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.context))
                        if let environment = children.environmentBox.environment,
                            environment.configuration.requestTimeoutSeconds > 0
                        {
                            let stats = environment.stats
                            try channel.pipeline.syncOperations.addHandler(TLSHandshakeDeadline(
                                limit: .seconds(Int64(environment.configuration.requestTimeoutSeconds)),
                                onTimeout: { stats.requestTimeouts.add(1, ordering: .relaxed) }))
                        }
                    }
                    try Self.initialize(
                        channel, environment: children.environmentBox.environment,
                        flushList: children.flushLists[channel.eventLoop], admission: children.admissions[channel.eventLoop],
                        logger: children.logger)
                }
            }
        do {
            return try await bootstrap.bind(host: configuration.host, port: port).get()
        } catch {
            throw GatewayServerError.cannotBind(
                host: configuration.host, port: port, reason: tls == nil ? "\(error)" : "TLS port: \(error)")
        }
    }

    /// Reads the TLS certificate, key and CA files again (SIGHUP): connections accepted from
    /// now on get the new certificate, open ones keep theirs. On failure the old files stay in
    /// use and the error says which key and path failed. Does nothing without a TLS port.
    public func reloadTLS() throws {
        guard let tls = tlsContext.withLock({ $0 }) else { return }
        try tls.reload()
        logger.info("TLS certificates reloaded", metadata: ["cert": "\(tls.settings.certificateFile)"])
    }

    private static func initialize(
        _ channel: any Channel, environment: ServerEnvironment?, flushList: LoopFlushList, admission: LoopAdmission,
        logger: Logger
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
            flushList: flushList,
            admission: admission))
    }

    private static func describe(_ address: SocketAddress) -> String {
        "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
    }

    /// Graceful stop: no new connections; every connection reads nothing more, gets the
    /// replies to what it already sent, then is closed. Connections still open after
    /// `timeout` (or when the calling task is cancelled) are closed anyway. Returns the
    /// number of connections cut off.
    func drain(timeout: TimeAmount) async -> Int {
        for channel in listeningChannels.withLock({ $0 }) where channel.isActive { try? await channel.close() }
        for record in registry.all {
            record.channel.pipeline.fireUserInboundEventTriggered(DrainEvent())
        }
        let deadline = NIODeadline.now() + timeout
        while registry.count > 0 && NIODeadline.now() < deadline {
            do { try await Task.sleep(for: .milliseconds(10)) } catch { break }
        }
        let remaining = registry.all
        for record in remaining { record.channel.close(promise: nil) }
        logger.info("drained", metadata: [
            "commands_processed": "\(stats.totalCommandsProcessed)", "cut_off": "\(remaining.count)"])
        return remaining.count
    }

    /// Outside a service group: stops accepting, closes the listening socket and, if it
    /// owns them, the event loops.
    public func shutdown() async {
        let channels = listeningChannels.withLock { $0 }.filter(\.isActive)
        guard !channels.isEmpty else { return }
        for channel in channels { try? await channel.close() }
        if ownsGroup { try? await group.shutdownGracefully() }
        logger.info("stopped")
    }
}

/// Why the server could not start.
public enum GatewayServerError: Error, CustomStringConvertible {
    case cannotBind(host: String, port: Int, reason: String)
    case notReady
    case nothingToListenOn

    public var description: String {
        switch self {
        case let .cannotBind(host, port, reason): return "cannot listen on \(host):\(port): \(reason)"
        case .notReady: return "server is still starting"
        case .nothingToListenOn: return "server.plaintext is off and no server.tls_port is set: nothing to listen on"
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
