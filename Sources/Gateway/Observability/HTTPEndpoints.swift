import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The operator's HTTP port: `/metrics` (Prometheus text format), `/healthz` (the
/// process is alive) and `/readyz` (Redis and PostgreSQL reachable, listener connected;
/// 503 with a JSON body naming what is down). Separate from the Redis port on purpose.
///
/// A `Service`: listens from its start until graceful shutdown. Bounded, so that idle or
/// trickling connections cannot use up the descriptors the Redis port needs: at most
/// `maxConnections` at once (a newcomer takes the place of the oldest one that has sent nothing,
/// or is closed on accept when every place is answering: `ConnectionPlaces`), each closed unless it sends a whole
/// request within `requestTimeout` of connecting or of its previous response.
public final class HTTPEndpoints: Service, Sendable, CustomStringConvertible {
    public struct Limits: Sendable {
        public var maxConnections: Int
        public var requestTimeout: TimeAmount

        public init(maxConnections: Int = 64, requestTimeout: TimeAmount = .seconds(10)) {
            self.maxConnections = maxConnections
            self.requestTimeout = requestTimeout
        }
    }

    private let host: String
    private let requestedPort: Int
    private let group: any EventLoopGroup
    private let routes: Routes
    private let logger: Logger
    private let limits: Limits
    /// The places, the channels that may be displaced, and those displaced but not yet closed.
    private let places: Mutex<(places: ConnectionPlaces<Int>, channels: [Int: HeldChannel], displaced: Set<Int>)>

    /// A channel kept to be closed if displaced (a class: NIO's `Channel` is only
    /// preconcurrency-Sendable, which the lock's sending rules do not accept).
    private final class HeldChannel: Sendable {
        let channel: any Channel
        init(_ channel: any Channel) { self.channel = channel }
    }
    private let nextConnectionID = Atomic<Int>(0)
    private let refusedConnections = Atomic<Int>(0)
    /// Set with the bound port once the port is open, or with why it could not be opened.
    let listening = StartupEvent<Int>()
    private let boundPort = Atomic<Int>(0)

    public var description: String { "HTTPEndpoints" }

    /// The port actually bound (0 until then); differs from the configuration's when that was 0.
    public var port: Int { boundPort.load(ordering: .relaxed) }

    /// Takes a place for `channel` (see `ConnectionPlaces`): returns its id, or nil when refused.
    private func admit(_ channel: any Channel) -> Int? {
        let id = nextConnectionID.wrappingAdd(1, ordering: .relaxed).newValue
        let held = HeldChannel(channel)
        let (admission, displacedChannel): (ConnectionPlaces<Int>.Admission, HeldChannel?) = places.withLock { state in
            let admission = state.places.admit(id)
            var displacedChannel: HeldChannel?
            if case .admittedDisplacing(let old) = admission {
                state.displaced.insert(old)
                displacedChannel = state.channels.removeValue(forKey: old)
            }
            if admission != .refused { state.channels[id] = held }
            return (admission, displacedChannel)
        }
        switch admission {
        case .admitted:
            return id
        case .admittedDisplacing:
            refusedConnections.wrappingAdd(1, ordering: .relaxed)
            displacedChannel?.channel.close(promise: nil)
            return id
        case .refused:
            refusedConnections.wrappingAdd(1, ordering: .relaxed)
            return nil
        }
    }

    private func closed(_ id: Int) {
        places.withLock { state in
            let displaced = state.displaced.remove(id) != nil
            state.places.closed(id, displaced: displaced)
            state.channels[id] = nil
        }
    }

    private func requestArrived(_ id: Int) {
        places.withLock { $0.places.requestArrived(id) }
    }

    /// Connections holding a place now.
    public var openCount: Int { places.withLock { $0.places.count } }

    /// Connections closed because `maxConnections` were open: refused on accept, or displaced by
    /// a newer one while they had sent nothing.
    public var refused: Int { refusedConnections.load(ordering: .relaxed) }

    init(host: String, port: Int, group: any EventLoopGroup, collector: MetricsCollector, health: HealthMonitor,
         limits: Limits = Limits(), logger: Logger) {
        self.limits = limits
        self.places = Mutex((ConnectionPlaces(capacity: limits.maxConnections), [:], []))
        self.host = host
        self.requestedPort = port
        self.group = group
        self.routes = Routes(collector: collector, health: health)
        self.logger = logger
    }

    /// Listens until graceful shutdown (or cancellation), then closes the port.
    public func run() async throws {
        try await ListeningService.listenUntilShutdown(reportingTo: listening) { [try await bind()] }
        logger.debug("metrics and health endpoints closed")
    }

    private func bind() async throws -> any Channel {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let id = admit(channel) else {
                        channel.close(promise: nil)
                        return
                    }
                    channel.closeFuture.whenComplete { [self] _ in closed(id) }
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.configureHTTPServerPipeline()
                    try pipeline.addHandler(HTTPRouteHandler(
                        routes: routes, requestTimeout: limits.requestTimeout,
                        requestArrived: { [self] in requestArrived(id) }))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: host, port: requestedPort).get()
        } catch {
            throw GatewayServerError.cannotBind(host: host, port: requestedPort, reason: "metrics port: \(error)")
        }
        let bound = channel.localAddress?.port ?? requestedPort
        boundPort.store(bound, ordering: .relaxed)
        logger.info("metrics and health endpoints", metadata: ["host": "\(host)", "port": "\(bound)"])
        listening.succeed(bound)
        return channel
    }
}

/// What each path answers.
struct Routes: Sendable {
    let collector: MetricsCollector
    let health: HealthMonitor

    func respond(to path: String) -> (HTTPResponseStatus, String, [UInt8]) {
        switch path.split(separator: "?").first.map(String.init) ?? path {
        case "/metrics":
            return (.ok, "text/plain; version=0.0.4; charset=utf-8", collector.scrape())
        case "/healthz":
            return (.ok, "application/json", Array(#"{"status":"ok"}"#.utf8))
        case "/readyz":
            let state = health.health
            var body: [String: Any] = [
                "status": state.ready ? "ready" : "unready",
                "redis": state.redisUp ? "up" : "down",
                "postgres": state.postgresUp ? "up" : "down",
                "listener": state.listenerUp ? "up" : "down",
            ]
            if !state.problems.isEmpty { body["problems"] = state.problems }
            let json = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
            return (state.ready ? .ok : .serviceUnavailable, "application/json", Array(json))
        default:
            return (.notFound, "text/plain", Array("not found: try /metrics, /healthz or /readyz\n".utf8))
        }
    }
}

/// A minimal HTTP/1.1 responder for the routes above.
final class HTTPRouteHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let routes: Routes
    private let requestTimeout: TimeAmount
    private var path = "/"
    private var keepAlive = true
    /// Closes the connection unless a whole request arrives first.
    private var deadline: Scheduled<Void>?
    /// Called at the first request: the connection no longer gives up its place to a newcomer.
    private var requestArrived: (() -> Void)?

    init(routes: Routes, requestTimeout: TimeAmount, requestArrived: (() -> Void)? = nil) {
        self.routes = routes
        self.requestTimeout = requestTimeout
        self.requestArrived = requestArrived
    }

    func handlerAdded(context: ChannelHandlerContext) {
        armDeadline(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
    }

    private func armDeadline(context: ChannelHandlerContext) {
        deadline?.cancel()
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: requestTimeout) { channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            requestArrived?()
            requestArrived = nil
            path = head.uri
            keepAlive = head.isKeepAlive
        case .body:
            break
        case .end:
            armDeadline(context: context)
            let (status, contentType, body) = routes.respond(to: path)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Content-Length", value: String(body.count))
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))),
                          promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
            let keepAlive = self.keepAlive
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                if !keepAlive { channel.close(promise: nil) }
            }
        }
    }
}
