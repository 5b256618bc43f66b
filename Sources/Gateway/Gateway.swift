import Invalidation
import Logging
import NIOCore
import NIOPosix
import Postgres
import ReadThrough
import RedisBackend
import ServiceLifecycle

/// A running gateway: the server plus its Redis client, PostgreSQL pool, invalidation
/// listener, health probes and metrics endpoint.
///
/// The listener, the health probes, the metrics endpoint and the server are `Service`s run by
/// one `ServiceGroup`. They start in that order (the server accepts once the listener has
/// caught up) and stop in the reverse one on graceful shutdown (the given signals, or
/// `shutdown()`): the server stops accepting and answers what clients already sent (bounded
/// by the drain timeout), then the endpoint, the probes and the listener stop. The backends,
/// which are not services, close after all of them: Redis, PostgreSQL, the event loops.
public final class Gateway: Sendable {
    public let server: GatewayServer
    public let cache: ReadThroughCache
    public let redis: RedisClient
    public let pool: PostgresPool
    /// Nil when invalidation is turned off in the configuration.
    public let invalidation: InvalidationService?
    public let metrics: GatewayMetrics
    public let health: HealthMonitor
    /// Nil when the metrics port is turned off.
    public let endpoints: HTTPEndpoints?
    private let services: ServiceGroup
    private let running: Task<Void, any Error>

    /// The port the Redis-protocol server listens on.
    public var port: Int { server.localPort }

    /// Connects the backends and runs the services; returns once the server and the metrics
    /// endpoint listen. Unreachable backends are logged with the address tried but do not stop
    /// start-up: the gateway reconnects when they return.
    ///
    /// - Parameter stopsOnSignals: whether SIGTERM and SIGINT start a graceful shutdown (the
    ///   executable's choice; tests call `shutdown()`).
    public static func start(
        configuration: GatewayConfiguration, logger: Logger, stopsOnSignals: Bool = false
    ) async throws -> Gateway {
        try await start(configuration: configuration, logger: logger, hooks: FillHooks(), stopsOnSignals: stopsOnSignals)
    }

    /// `start` with `hooks` that let tests hold fills at chosen points.
    package static func start(
        configuration: GatewayConfiguration, logger: Logger, hooks: FillHooks, stopsOnSignals: Bool = false
    ) async throws -> Gateway {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.server.eventLoopThreads))
        let redis: RedisClient
        do {
            redis = try makeRedisClient(configuration: configuration, group: group, logger: logger)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        let pool = PostgresPool(configuration: configuration.postgres, logger: logger)
        do {
            try await redis.connectAll()
        } catch {
            logger.warning("Redis is not reachable yet; serving from PostgreSQL until it is", metadata: ["error": "\(error)"])
        }
        do {
            try await pool.checkConnectivity(on: group.any()).get()
        } catch {
            logger.warning("PostgreSQL is not reachable yet; misses will fail until it is", metadata: ["error": "\(error)"])
        }
        let gateway = Gateway(
            configuration: configuration, group: group, redis: redis, pool: pool, hooks: hooks,
            stopsOnSignals: stopsOnSignals, logger: logger)
        do {
            _ = try await gateway.server.listening.value()
            _ = try await gateway.endpoints?.listening.value()
        } catch {
            // A service could not start: the group stops the others and the backends close.
            let outcome = await gateway.running.result
            if case .failure(let failure) = outcome { throw failure }
            throw error
        }
        return gateway
    }

    private init(
        configuration: GatewayConfiguration, group: MultiThreadedEventLoopGroup, redis: RedisClient, pool: PostgresPool,
        hooks: FillHooks, stopsOnSignals: Bool, logger: Logger
    ) {
        let metrics = GatewayMetrics()
        let tracking = ClientTracking(maxKeys: configuration.server.trackingMaxKeys)
        let cache = ReadThroughCache(
            redis: redis, pool: pool, settings: configuration.cache, nearCache: configuration.nearCache, hooks: hooks,
            metricsFactory: metrics.factory, observer: tracking, logger: logger)
        var invalidation: InvalidationService?
        if configuration.invalidation.enabled {
            invalidation = InvalidationService(
                postgresURL: configuration.postgres.url, redis: redis, target: cache.copies,
                settings: configuration.invalidation, metricsFactory: metrics.factory,
                eventLoop: group.next(), logger: logger)
        }
        let listener = invalidation.map { InvalidationServiceAdapter($0, logger: logger) }
        var onRedisRunID: (@Sendable (String) -> Void)?
        if let restartGuard = invalidation?.restartGuard {
            onRedisRunID = { restartGuard.observe(runID: $0) }
        }
        let health = HealthMonitor(redis: redis, pool: pool, invalidation: invalidation, eventLoop: group.next(),
                                   onRedisRunID: onRedisRunID, logger: logger)
        let server = GatewayServer(
            configuration: configuration.server, group: group, cache: cache, invalidation: invalidation,
            metrics: metrics, health: health, drainTimeout: .seconds(Int64(configuration.drainTimeoutSeconds)),
            logger: logger)
        var endpoints: HTTPEndpoints?
        if let metricsPort = configuration.metricsPort {
            let collector = MetricsCollector(
                metrics: metrics, stats: server.stats, registry: server.registry, clientMemory: server.clientMemory, cache: cache, redis: redis,
                pool: pool, invalidation: invalidation, health: health)
            endpoints = HTTPEndpoints(
                host: configuration.metricsHost, port: metricsPort, group: group, collector: collector, health: health,
                limits: HTTPEndpoints.Limits(maxConnections: configuration.metricsMaxConnections,
                                             requestTimeout: .seconds(Int64(configuration.metricsRequestTimeoutSeconds))),
                logger: logger)
        }

        // Registration order is start-up order; graceful shutdown runs in reverse.
        var services: [any Service] = []
        if let listener { services.append(listener) }
        services.append(health)
        if let endpoints {
            services.append(StartAfter(base: endpoints) { _ = try await server.listening.value() })
        }
        services.append(StartAfter(base: server) {
            try await listener?.started.value()
            try await health.started.value()
        })
        if stopsOnSignals && configuration.server.tls != nil {
            services.append(TLSReloadOnSignal(server: server, logger: logger))
        }
        let serviceGroup = ServiceGroup(configuration: .init(
            services: services, gracefulShutdownSignals: stopsOnSignals ? [.sigterm, .sigint] : [], logger: logger))
        let backends = Backends(redis: redis, pool: pool, group: group, logger: logger)

        self.server = server
        self.cache = cache
        self.redis = redis
        self.pool = pool
        self.invalidation = invalidation
        self.metrics = metrics
        self.health = health
        self.endpoints = endpoints
        self.services = serviceGroup
        self.running = Task {
            defer {
                // Whoever still waits for a service that never started learns that it will not.
                server.listening.fail(GatewayStopped())
                endpoints?.listening.fail(GatewayStopped())
            }
            do {
                try await serviceGroup.run()
            } catch {
                await backends.close()
                throw error
            }
            await backends.close()
            logger.info("stopped")
        }
    }

    private static func makeRedisClient(
        configuration: GatewayConfiguration, group: MultiThreadedEventLoopGroup, logger: Logger
    ) throws -> RedisClient {
        let tls = configuration.redisTLS
        // A single Redis's URL is read only in single-node mode (TLS files are read for the URL in use).
        var redisConfiguration = configuration.redisClusterNodes.isEmpty
            ? try RedisClientConfiguration(url: configuration.redisURL, tls: tls) : RedisClientConfiguration()
        redisConfiguration.connectTimeout = .milliseconds(Int64(configuration.redisConnectTimeoutMilliseconds))
        redisConfiguration.commandTimeout = .milliseconds(Int64(configuration.redisCommandTimeoutMilliseconds))
        if configuration.redisClusterNodes.isEmpty {
            return RedisClient(configuration: redisConfiguration, group: group, logger: logger)
        }
        var cluster = try RedisClusterConfiguration(seedURLs: configuration.redisClusterNodes, tls: tls)
        cluster.node.connectTimeout = redisConfiguration.connectTimeout
        cluster.node.commandTimeout = redisConfiguration.commandTimeout
        return RedisClient(cluster: cluster, group: group, logger: logger)
    }

    /// Returns when the gateway has stopped (after a graceful shutdown, or a service's failure,
    /// which it rethrows).
    public func waitUntilStopped() async throws {
        try await running.value
    }

    /// Starts a graceful shutdown (as SIGTERM does) and returns once everything has stopped.
    public func shutdown() async {
        await services.triggerGracefulShutdown()
        _ = await running.result
    }
}

/// The backends, which are not services: closed once, after every service has stopped.
private struct Backends: Sendable {
    let redis: RedisClient
    let pool: PostgresPool
    let group: MultiThreadedEventLoopGroup
    let logger: Logger

    func close() async {
        logger.debug("closing Redis, PostgreSQL and the event loops")
        await redis.shutdown()
        await pool.shutdown()
        try? await group.shutdownGracefully()
    }
}

/// What a caller waiting for a service's start-up learns when the gateway stopped first.
struct GatewayStopped: Error, CustomStringConvertible {
    var description: String { "the gateway stopped before it was listening" }
}
