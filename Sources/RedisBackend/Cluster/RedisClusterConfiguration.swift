import NIOCore

/// Cluster mode of `RedisClient`: where to start discovering the cluster, and how every node
/// connection behaves (credentials, timeouts, back-off: the fields of `node`; its host and port
/// are replaced per node, and its database must be 0, the only one a cluster has).
public struct RedisClusterConfiguration: Sendable {
    /// Nodes asked for the slot map at start and whenever no known node answers.
    public var seeds: [ClusterNodeAddress]
    /// Settings of each node connection.
    public var node: RedisClientConfiguration
    /// How often each event loop re-reads the slot map even when nothing went wrong.
    public var refreshInterval: TimeAmount
    /// Redirections (`MOVED`, `ASK`, `TRYAGAIN`, `CLUSTERDOWN`) one command follows before
    /// its last reply is handed back as it is.
    public var maxRedirections: Int
    /// Pause before retrying after `TRYAGAIN` or `CLUSTERDOWN`.
    public var retryDelay: TimeAmount

    public init(
        seeds: [ClusterNodeAddress], node: RedisClientConfiguration = RedisClientConfiguration(),
        refreshInterval: TimeAmount = .seconds(5), maxRedirections: Int = 8, retryDelay: TimeAmount = .milliseconds(50)
    ) {
        self.seeds = seeds
        self.node = node
        self.refreshInterval = refreshInterval
        self.maxRedirections = maxRedirections
        self.retryDelay = retryDelay
    }

    /// Reads seed URLs (`redis[s]://[[user]:password@]host[:port]`, no database or database 0);
    /// credentials come from the first URL that has them. `rediss://` seeds (all or none) make
    /// every node connection TLS, the nodes the cluster names as well as the seeds.
    public init(seedURLs: [String], tls: RedisTLSSettings = RedisTLSSettings()) throws {
        guard !seedURLs.isEmpty else {
            throw RedisURLError(maskedURL: "", problem: "a cluster needs at least one seed node")
        }
        var seeds: [ClusterNodeAddress] = []
        var node = RedisClientConfiguration()
        var credentialsTaken = false
        for url in seedURLs {
            let parsed = try RedisURL(parsing: url)
            guard parsed.database == 0 else {
                throw RedisURLError(maskedURL: RedisURL.mask(url), problem: "a Redis Cluster has only database 0")
            }
            if let first = seedURLs.first, parsed.tls != (try RedisURL(parsing: first)).tls {
                throw RedisURLError(maskedURL: RedisURL.mask(url), problem: "seeds must be all redis:// or all rediss://")
            }
            seeds.append(ClusterNodeAddress(host: parsed.host, port: parsed.port))
            if !credentialsTaken, parsed.password != nil {
                node.username = parsed.username
                node.password = parsed.password
                credentialsTaken = true
            }
        }
        if try RedisURL(parsing: seedURLs[0]).tls { node.tls = try RedisTLS.make(tls) }
        self.init(seeds: seeds, node: node)
    }

    /// The node settings pointed at `address`.
    func node(at address: ClusterNodeAddress) -> RedisClientConfiguration {
        var configuration = node
        configuration.host = address.host
        configuration.port = address.port
        configuration.database = 0
        return configuration
    }

    /// The seeds as error messages name them.
    var seedList: String { seeds.map(\.description).joined(separator: ",") }
}
