import CacheModel
import Invalidation
import ReadThrough
import NIOCore
import Postgres
import RedisBackend
import RESP

/// Everything the gateway process is configured with, after the YAML file, the
/// environment and the command line have been merged and validated.
public struct GatewayConfiguration: Sendable {
    public var server: ServerConfiguration
    public var redisURL: String
    /// Seed node URLs of a Redis Cluster (`redis.cluster_nodes`); empty: the single Redis of `redisURL`.
    public var redisClusterNodes: [String] = []
    /// How a `rediss://` Redis (or cluster) is checked: CA, client certificate, server name.
    public var redisTLS = RedisTLSSettings()
    public var redisConnectTimeoutMilliseconds: Int
    public var redisCommandTimeoutMilliseconds: Int
    public var postgres: PostgresPool.Configuration
    public var cache: CacheSettings
    /// Hot values kept in the gateway's own memory (`near_cache.*`).
    public var nearCache = NearCacheSettings()
    public var invalidation: InvalidationSettings
    /// Address and port of `/metrics`, `/healthz`, `/readyz`; nil port = off.
    public var metricsHost: String
    public var metricsPort: Int?
    /// The metrics port's limits: connections at once, and how long a connection may take to
    /// send a whole request (after connecting or after its previous response).
    public var metricsMaxConnections = 64
    public var metricsRequestTimeoutSeconds = 10
    /// How long a graceful shutdown waits for clients to receive what they asked for.
    public var drainTimeoutSeconds: Int
    public var logLevel: String

    public init(
        server: ServerConfiguration = ServerConfiguration(),
        redisURL: String = "redis://127.0.0.1:6379",
        redisConnectTimeoutMilliseconds: Int = 2_000,
        redisCommandTimeoutMilliseconds: Int = 2_000,
        postgres: PostgresPool.Configuration = PostgresPool.Configuration(url: "postgresql://postgres@127.0.0.1:5432/quicksell"),
        cache: CacheSettings = CacheSettings(),
        invalidation: InvalidationSettings = InvalidationSettings(),
        metricsHost: String = "127.0.0.1",
        metricsPort: Int? = nil,
        drainTimeoutSeconds: Int = 10,
        logLevel: String = "info"
    ) {
        self.metricsHost = metricsHost
        self.metricsPort = metricsPort
        self.drainTimeoutSeconds = drainTimeoutSeconds
        self.invalidation = invalidation
        self.server = server
        self.redisURL = redisURL
        self.redisConnectTimeoutMilliseconds = redisConnectTimeoutMilliseconds
        self.redisCommandTimeoutMilliseconds = redisCommandTimeoutMilliseconds
        self.postgres = postgres
        self.cache = cache
        self.logLevel = logLevel
    }

    /// The effective configuration as `key: value` lines, passwords masked.
    public var maskedDescription: String {
        var lines: [(String, String)] = [
            ("server.host", server.host),
            ("server.port", String(server.port)),
            ("server.plaintext", server.plaintext ? "yes" : "no"),
            ("server.tls_port", server.tls.map { String($0.port) } ?? "0 (no TLS listener)"),
            ("server.tls_cert_file", server.tls?.certificateFile ?? "(none)"),
            ("server.tls_key_file", server.tls?.keyFile ?? "(none)"),
            ("server.tls_ca_cert_file", server.tls?.caCertificateFile ?? "(none: client certificates not required)"),
            ("server.threads", String(server.eventLoopThreads)),
            ("server.max_clients", String(server.maxClients)),
            ("server.idle_timeout_seconds", String(server.idleTimeoutSeconds)),
            ("server.request_timeout_seconds", String(server.requestTimeoutSeconds)),
            ("server.socket_send_buffer_bytes", String(server.socketSendBufferBytes)),
            ("server.requirepass", !server.users.defaultUserHasPassword ? "(none)"
                : server.requirePassFile == nil ? "********" : "******** (from server.requirepass_file)"),
            ("server.requirepass_file", server.requirePassFile ?? "(none)"),
            ("server.users", server.users.userRoles.isEmpty ? "(none)" : server.users.userRoles.joined(separator: ",")),
            ("server.users_file", server.usersFile ?? "(none)"),
            ("server.protected_mode", server.protectedMode ? "yes" : "no"),
            ("tracking.max_keys", String(server.trackingMaxKeys)),
            ("limits.max_bulk_length", String(server.limits.maxBulkLength)),
            ("limits.max_array_elements", String(server.limits.maxAggregateElements)),
            ("limits.max_nesting_depth", String(server.limits.maxNestingDepth)),
            ("limits.max_inline_length", String(server.limits.maxInlineLength)),
            ("limits.client_output_buffer_soft_bytes", String(server.bufferLimits.outputSoftBytes)),
            ("limits.client_output_buffer_hard_bytes", String(server.bufferLimits.outputHardBytes)),
            ("limits.client_query_buffer_bytes", String(server.bufferLimits.queryBytes)),
            ("limits.maxmemory_clients_bytes", String(server.bufferLimits.gatewayBytes)),
            ("limits.in_flight_bytes_per_loop", String(server.bufferLimits.inFlightBytesPerLoop)),
            ("limits.misses_in_flight_per_loop", String(server.bufferLimits.missesInFlightPerLoop)),
            ("redis.url", redisClusterNodes.isEmpty ? redactedURL(redisURL) : "(unused: cluster mode)"),
            ("redis.cluster_nodes", redisClusterNodes.isEmpty ? "(none: single Redis)"
                : redisClusterNodes.map(redactedURL).joined(separator: ",")),
            ("redis.tls_ca_cert_file", redisTLS.caCertificateFile ?? "(none: the system's trust store)"),
            ("redis.tls_cert_file", redisTLS.certificateFile ?? "(none)"),
            ("redis.tls_key_file", redisTLS.keyFile ?? "(none)"),
            ("redis.tls_server_name", redisTLS.serverName ?? "(none: each node's host)"),
            ("redis.tls_verify_server_name", redisTLS.verifyServerName ? "yes" : "no"),
            ("redis.connect_timeout_ms", String(redisConnectTimeoutMilliseconds)),
            ("redis.command_timeout_ms", String(redisCommandTimeoutMilliseconds)),
            ("postgres.url", redactedURL(postgres.url)),
            ("postgres.pool_size", String(postgres.size)),
            ("postgres.connect_timeout_seconds", String(postgres.connectTimeoutSeconds)),
            ("postgres.statement_timeout_ms", String(postgres.statementTimeoutMilliseconds)),
            ("postgres.max_queued", String(postgres.maxQueued)),
        ]
        for family in ConfigurationKeys.ttlFamilies {
            lines.append(("cache.ttl_seconds.\(family.key)", String(cache.ttl(family.families[0]))))
        }
        lines += [
            ("cache.negative_ttl_seconds", String(cache.negativeTTLSeconds)),
            ("cache.ttl_jitter_percent", String(cache.ttlJitterPercent)),
            ("cache.leaderboard_size", String(cache.leaderboardSize)),
            ("cache.max_batch_size", String(cache.maxBatchSize)),
            ("near_cache.max_bytes", String(nearCache.maxBytes)),
            ("near_cache.ttl_seconds", String(nearCache.ttlSeconds)),
        ]
        for family in ConfigurationKeys.ttlFamilies {
            let on = family.families.allSatisfy(nearCache.families.contains)
            lines.append(("near_cache.families.\(family.key)", on ? "true" : "false"))
        }
        lines += [
            ("invalidation.enabled", invalidation.enabled ? "true" : "false"),
            ("invalidation.leaderboard_interval_seconds", String(invalidation.leaderboardIntervalSeconds)),
            ("invalidation.source", invalidation.source.rawValue),
            ("invalidation.replication_slot", invalidation.replicationSlot),
            ("invalidation.slot_retained_warning_bytes", String(invalidation.slotRetainedWarningBytes)),
            ("invalidation.flush_families_above_keys", String(invalidation.flushFamiliesAboveKeys)),
            ("invalidation.listener_timeout_seconds", String(invalidation.listenerTimeoutSeconds)),
            ("metrics.enabled", metricsPort == nil ? "false" : "true"),
            ("metrics.host", metricsHost),
            ("metrics.port", metricsPort.map(String.init) ?? "(off)"),
            ("metrics.max_connections", String(metricsMaxConnections)),
            ("metrics.request_timeout_seconds", String(metricsRequestTimeoutSeconds)),
            ("server.drain_timeout_seconds", String(drainTimeoutSeconds)),
            ("log.level", logLevel),
        ]
        return lines.map { "\($0.0): \($0.1)" }.joined(separator: "\n")
    }
}
