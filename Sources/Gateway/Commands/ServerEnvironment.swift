import Invalidation
import Logging
import ReadThrough
import RESP

/// What commands may consult beyond their own connection: the configuration, the
/// other clients, the counters. Shared by every connection of a server.
final class ServerEnvironment: Sendable {
    let configuration: ServerConfiguration
    let registry: ClientRegistry
    let stats: ServerStats
    /// The port actually bound (differs from the configuration's when that is 0).
    let boundPort: Int
    /// The TLS port actually bound; 0 without a TLS listener.
    let boundTLSPort: Int
    /// The read-through cache; nil for a server started without backends (protocol tests).
    let cache: ReadThroughCache?
    /// Invalidation, for `INFO invalidation`; nil when off.
    let invalidation: InvalidationService?
    /// Prometheus metrics; nil for a server started without them.
    let metrics: GatewayMetrics?
    /// Backend health for `INFO gateway`; nil without backends.
    let health: HealthMonitor?
    /// The operator commands (`QUICKSELL …`, `DEL`); nil without backends.
    let operations: OperatorService?
    /// Failed authentication attempts, counted and logged.
    let authFailures: AuthFailures
    /// The bytes every client connection holds, against the buffer limits.
    let clientMemory: ClientMemory
    /// Client-side caching: who tracks which keys (`CLIENT TRACKING`).
    let tracking: ClientTracking
    let gatewayVersion = "0.1.0"
    /// The Redis version we announce in HELLO and INFO, for clients that check features.
    /// 7.4: redis-py turns its client-side cache on only from 7.4; nothing else of 7.4 (hash
    /// field expiry) is something a client uses unasked, and the gateway refuses those commands.
    let compatibleRedisVersion = "7.4.0"

    init(
        configuration: ServerConfiguration, registry: ClientRegistry, stats: ServerStats, clientMemory: ClientMemory? = nil,
        boundPort: Int, boundTLSPort: Int = 0,
        cache: ReadThroughCache?, invalidation: InvalidationService? = nil, metrics: GatewayMetrics? = nil,
        health: HealthMonitor? = nil, logger: Logger = Logger(label: "quicksell.gateway")
    ) {
        // The cache's observer when the gateway composed one (Gateway.init); otherwise one that no invalidation reaches.
        self.tracking = (cache?.copies.observer as? ClientTracking) ?? ClientTracking(maxKeys: configuration.trackingMaxKeys)
        self.authFailures = AuthFailures(stats: stats, logger: logger)
        self.clientMemory = clientMemory ?? ClientMemory(limits: configuration.bufferLimits, logger: logger)
        self.metrics = metrics
        self.health = health
        self.cache = cache
        self.invalidation = invalidation
        self.operations = cache.map { OperatorService(cache: $0) }
        self.configuration = configuration
        self.registry = registry
        self.stats = stats
        self.boundPort = boundPort
        self.boundTLSPort = boundTLSPort
    }
}
