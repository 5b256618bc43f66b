import Logging
import NIOCore
import NIOPosix
import Postgres
import RedisBackend

/// A running gateway: the server plus its Redis client and PostgreSQL pool, started and
/// stopped together.
public final class Gateway: Sendable {
    public let server: GatewayServer
    public let cache: ReadThroughCache
    public let redis: RedisClient
    public let pool: PostgresPool
    /// Nil when invalidation is turned off in the configuration.
    public let invalidation: InvalidationService?
    private let group: MultiThreadedEventLoopGroup
    private let logger: Logger

    /// The port the server listens on.
    public var port: Int { server.localPort }

    /// Starts the backends and the server. Unreachable backends are logged with the
    /// address tried but do not stop start-up: the gateway reconnects when they return.
    public static func start(
        configuration: GatewayConfiguration, logger: Logger, hooks: FillHooks = FillHooks()
    ) async throws -> Gateway {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.server.eventLoopThreads))
        do {
            var redisConfiguration = try RedisClientConfiguration(url: configuration.redisURL)
            redisConfiguration.connectTimeout = .milliseconds(Int64(configuration.redisConnectTimeoutMilliseconds))
            redisConfiguration.commandTimeout = .milliseconds(Int64(configuration.redisCommandTimeoutMilliseconds))
            let redis = RedisClient(configuration: redisConfiguration, group: group, logger: logger)
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
            let cache = ReadThroughCache(
                redis: redis, pool: pool, settings: configuration.cache, hooks: hooks, logger: logger)
            var invalidation: InvalidationService?
            if configuration.invalidation.enabled {
                invalidation = InvalidationService(
                    postgresURL: configuration.postgres.url, redis: redis, cache: cache,
                    settings: configuration.invalidation, eventLoop: group.next(), logger: logger)
            }
            await invalidation?.start()
            let server = try await GatewayServer.start(
                configuration: configuration.server, group: group, cache: cache, invalidation: invalidation, logger: logger)
            return Gateway(server: server, cache: cache, redis: redis, pool: pool, invalidation: invalidation,
                           group: group, logger: logger)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private init(
        server: GatewayServer, cache: ReadThroughCache, redis: RedisClient, pool: PostgresPool,
        invalidation: InvalidationService?, group: MultiThreadedEventLoopGroup, logger: Logger
    ) {
        self.invalidation = invalidation
        self.server = server
        self.cache = cache
        self.redis = redis
        self.pool = pool
        self.group = group
        self.logger = logger
    }

    /// Stops the server, then the backends.
    public func shutdown() async {
        await server.shutdown()
        invalidation?.stop()
        await redis.shutdown()
        await pool.shutdown()
        try? await group.shutdownGracefully()
    }

    public func waitUntilStopped() async throws {
        try await server.waitUntilClosed()
    }
}
