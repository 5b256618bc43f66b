import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// The operator's HTTP port: `/metrics` (Prometheus text format), `/healthz` (the
/// process is alive) and `/readyz` (Redis and PostgreSQL reachable, listener connected;
/// 503 with a JSON body naming what is down). Separate from the Redis port on purpose.
public final class HTTPEndpoints: Sendable {
    private let channel: any Channel
    public let port: Int

    static func start(
        host: String, port: Int, group: any EventLoopGroup, collector: MetricsCollector, health: HealthMonitor,
        logger: Logger
    ) async throws -> HTTPEndpoints {
        let routes = Routes(collector: collector, health: health)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.configureHTTPServerPipeline()
                    try pipeline.addHandler(HTTPRouteHandler(routes: routes))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: host, port: port).get()
        } catch {
            throw GatewayServerError.cannotBind(host: host, port: port, reason: "metrics port: \(error)")
        }
        let bound = channel.localAddress?.port ?? port
        logger.info("metrics and health endpoints", metadata: ["host": "\(host)", "port": "\(bound)"])
        return HTTPEndpoints(channel: channel, port: bound)
    }

    private init(channel: any Channel, port: Int) {
        self.channel = channel
        self.port = port
    }

    func stop() async {
        try? await channel.close()
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
    private var path = "/"
    private var keepAlive = true

    init(routes: Routes) {
        self.routes = routes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            path = head.uri
            keepAlive = head.isKeepAlive
        case .body:
            break
        case .end:
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
