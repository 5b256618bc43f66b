import Invalidation
import Logging
import NIOCore
import NIOPosix
import Postgres
import ReadThrough
import RedisBackend
import ServiceLifecycle

/// A running gateway: the server plus its Redis client, PostgreSQL pool, invalidation
/// listener, health probes and metrics endpoint, started and stopped together.
///
/// A `Service` for swift-service-lifecycle: on graceful shutdown (SIGTERM, SIGINT) it
/// stops accepting, answers what clients already sent (bounded by the drain timeout),
/// then closes its backends.
public final class Gateway: Service, Sendable {
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
    private let drainTimeout: TimeAmount
    private let group: MultiThreadedEventLoopGroup
    private let logger: Logger

    /// The port the Redis-protocol server listens on.
    public var port: Int { server.localPort }

    /// Starts the backends and the server. Unreachable backends are logged with the
    /// address tried but do not stop start-up: the gateway reconnects when they return.
    public static func start(
        configuration: GatewayConfiguration, logger: Logger, invalidationHooks: InvalidationHooks = InvalidationHooks()
    ) async throws -> Gateway {
        try await start(configuration: configuration, logger: logger, hooks: FillHooks(), invalidationHooks: invalidationHooks)
    }

    /// `start` with `hooks` that let tests hold fills at chosen points.
    package static func start(
        configuration: GatewayConfiguration, logger: Logger, hooks: FillHooks,
        invalidationHooks: InvalidationHooks = InvalidationHooks()
    ) async throws -> Gateway {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.server.eventLoopThreads))
        do {
            var redisConfiguration = try RedisClientConfiguration(url: configuration.redisURL)
            redisConfiguration.connectTimeout = .milliseconds(Int64(configuration.redisConnectTimeoutMilliseconds))
            redisConfiguration.commandTimeout = .milliseconds(Int64(configuration.redisCommandTimeoutMilliseconds))
            let redis: RedisClient
            if configuration.redisClusterNodes.isEmpty {
                redis = RedisClient(configuration: redisConfiguration, group: group, logger: logger)
            } else {
                var cluster = try RedisClusterConfiguration(seedURLs: configuration.redisClusterNodes)
                cluster.node.connectTimeout = redisConfiguration.connectTimeout
                cluster.node.commandTimeout = redisConfiguration.commandTimeout
                redis = RedisClient(cluster: cluster, group: group, logger: logger)
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
            let metrics = GatewayMetrics()
            let cache = ReadThroughCache(
                redis: redis, pool: pool, settings: configuration.cache, hooks: hooks, metricsFactory: metrics.factory, logger: logger)
            var invalidation: InvalidationService?
            if configuration.invalidation.enabled {
                invalidation = InvalidationService(
                    postgresURL: configuration.postgres.url, redis: redis, target: cache.fills,
                    settings: configuration.invalidation, metricsFactory: metrics.factory, hooks: invalidationHooks,
                    eventLoop: group.next(), logger: logger)
            }
            await invalidation?.start()
            var onRedisRunID: (@Sendable (String) -> Void)?
            if let restartGuard = invalidation?.restartGuard {
                onRedisRunID = { restartGuard.observe(runID: $0) }
            }
            let health = HealthMonitor(redis: redis, pool: pool, listener: invalidation?.listener, eventLoop: group.next(),
                                       onRedisRunID: onRedisRunID)
            await health.start()
            let server = try await GatewayServer.start(
                configuration: configuration.server, group: group, cache: cache, invalidation: invalidation,
                metrics: metrics, health: health, logger: logger)
            var endpoints: HTTPEndpoints?
            if let metricsPort = configuration.metricsPort {
                let collector = MetricsCollector(
                    metrics: metrics, stats: server.stats, registry: server.registry, cache: cache, redis: redis,
                    pool: pool, invalidation: invalidation, health: health)
                endpoints = try await HTTPEndpoints.start(
                    host: configuration.metricsHost, port: metricsPort, group: group, collector: collector,
                    health: health, logger: logger)
            }
            return Gateway(
                server: server, cache: cache, redis: redis, pool: pool, invalidation: invalidation, metrics: metrics,
                health: health, endpoints: endpoints,
                drainTimeout: .seconds(Int64(configuration.drainTimeoutSeconds)), group: group, logger: logger)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private init(
        server: GatewayServer, cache: ReadThroughCache, redis: RedisClient, pool: PostgresPool,
        invalidation: InvalidationService?, metrics: GatewayMetrics, health: HealthMonitor, endpoints: HTTPEndpoints?,
        drainTimeout: TimeAmount, group: MultiThreadedEventLoopGroup, logger: Logger
    ) {
        self.server = server
        self.cache = cache
        self.redis = redis
        self.pool = pool
        self.invalidation = invalidation
        self.metrics = metrics
        self.health = health
        self.endpoints = endpoints
        self.drainTimeout = drainTimeout
        self.group = group
        self.logger = logger
    }

    /// Serves until graceful shutdown is requested, then drains and stops.
    public func run() async throws {
        await withGracefulShutdownHandler {
            try? await server.waitUntilClosed()
        } onGracefulShutdown: { [server, drainTimeout] in
            Task { _ = await server.drain(timeout: drainTimeout) }
        }
        await shutdown()
    }

    /// Stops the server (answering what was already read), then the backends.
    public func shutdown() async {
        _ = await server.drain(timeout: drainTimeout)
        await endpoints?.stop()
        health.stop()
        invalidation?.stop()
        await redis.shutdown()
        await pool.shutdown()
        try? await group.shutdownGracefully()
        logger.info("stopped")
    }
}
