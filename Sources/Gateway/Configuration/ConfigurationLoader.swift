import CacheModel
import Configuration
import Invalidation
import ReadThrough
import NIOCore
import Postgres
import RedisBackend
import RESP
import SystemPackage

/// Builds a `GatewayConfiguration` from, in order of precedence: command-line flags,
/// `QUICKSELL_*` environment variables, the YAML file, and built-in defaults.
///
/// swift-configuration merges the sources; every value is then parsed here, so that a
/// bad one stops start-up with a message naming its key and the expected form.
public enum ConfigurationLoader {
    public static func load(
        file: String?,
        overrides: [String: String] = [:],
        environment: [String: String]
    ) async throws -> GatewayConfiguration {
        var providers: [any ConfigProvider] = []
        providers.append(InMemoryProvider(name: "command line", values: Dictionary(
            uniqueKeysWithValues: overrides.map { key, value in
                (AbsoluteConfigKey(ConfigKey(key)), ConfigValue(.string(value), isSecret: isSecret(key)))
            })))
        providers.append(KeyMappingProvider(
            upstream: EnvironmentVariablesProvider(environmentVariables: environment),
            keyMapper: { key in AbsoluteConfigKey(["quicksell"] + key.components, context: key.context) }))
        var fileText: (path: String, text: String)?
        if let file {
            do {
                providers.append(try await FileProvider<YAMLSnapshot>(filePath: FilePath(file)))
                fileText = (file, try String(contentsOfFile: file, encoding: .utf8))
            } catch {
                throw ConfigurationFileError(path: file, reason: "\(error)")
            }
        }
        let values = ConfigurationValues(reader: ConfigReader(providers: providers))
        let configuration = try values.configuration()
        let unknown = try UnknownKeys.problems(file: fileText, environment: environment, known: values.keysRead)
        guard unknown.isEmpty else { throw UnknownConfigurationKeysError(problems: unknown) }
        try ProtectedMode.check(configuration.server)
        return configuration
    }

    /// Every configuration key, sorted: the keys `ConfigurationValues` reads. To add a key,
    /// read it there (`try int("server.new_key", …)`); it is then valid in the file and as
    /// `QUICKSELL_SERVER_NEW_KEY`.
    public static func knownKeys() throws -> [String] {
        let values = ConfigurationValues(reader: ConfigReader(providers: [InMemoryProvider(values: [:])]))
        _ = try values.configuration()
        return values.keysRead.sorted()
    }

    static func isSecret(_ key: String) -> Bool {
        key.hasSuffix("pass") || key.hasSuffix("password") || key.hasSuffix(".url") || key == "server.users"
            || key == "redis.cluster_nodes"
    }
}

/// Typed, validated reads of the merged configuration.
///
/// The keys read here are the valid keys (`keysRead`): anything else in the file or the
/// environment is refused as a typo. So read every key on every load, even one that the
/// rest of the configuration makes unused.
struct ConfigurationValues {
    let reader: ConfigReader
    private let readKeys = KeyLog()

    /// The keys asked for so far.
    var keysRead: Set<String> { readKeys.keys }

    func configuration() throws -> GatewayConfiguration {
        let defaults = GatewayConfiguration()
        let limits = RESPLimits(
            maxBulkLength: try int("limits.max_bulk_length", default: RESPLimits.default.maxBulkLength,
                                    range: 1...(512 * 1024 * 1024)),
            maxAggregateElements: try int("limits.max_array_elements", default: RESPLimits.default.maxAggregateElements,
                                          range: 1...(1024 * 1024 * 1024)),
            maxNestingDepth: try int("limits.max_nesting_depth", default: RESPLimits.default.maxNestingDepth, range: 1...128),
            maxInlineLength: try int("limits.max_inline_length", default: RESPLimits.default.maxInlineLength,
                                     range: 16...(1024 * 1024)))
        let bufferLimits = try clientBufferLimits()
        let threads = try int("server.threads", default: 0, range: 0...256)
        let access = try credentials()
        var server = ServerConfiguration(
            host: try string("server.host", default: defaults.server.host),
            port: try int("server.port", default: defaults.server.port, range: 0...65_535),
            eventLoopThreads: threads == 0 ? ServerConfiguration.defaultEventLoopThreads() : threads,
            maxClients: try int("server.max_clients", default: defaults.server.maxClients, range: 1...1_000_000),
            idleTimeoutSeconds: try int("server.idle_timeout_seconds", default: 0, range: 0...(365 * 86_400)),
            requestTimeoutSeconds: try int("server.request_timeout_seconds", default: defaults.server.requestTimeoutSeconds,
                                           range: 0...86_400),
            limits: limits,
            bufferLimits: bufferLimits,
            socketSendBufferBytes: try int("server.socket_send_buffer_bytes", default: defaults.server.socketSendBufferBytes,
                                           range: 0...(64 << 20)),
            users: access.users)
        server.requirePassFile = access.requirePassFile
        server.usersFile = access.usersFile
        server.protectedMode = try bool("server.protected_mode", default: true)
        server.trackingMaxKeys = try int("tracking.max_keys", default: ServerConfiguration.defaultTrackingMaxKeys,
                                         range: 0...100_000_000)
        server.plaintext = try bool("server.plaintext", default: true)
        server.tls = try tlsSettings(plaintextPort: server.plaintext ? server.port : nil)
        if !server.plaintext && server.tls == nil {
            throw ConfigurationError(key: "server.plaintext", expected: "yes unless server.tls_port is set (something must listen)",
                                     found: "no")
        }

        let redisURL = try string("redis.url", default: defaults.redisURL)
        guard redisURL.hasPrefix("redis://") || redisURL.hasPrefix("rediss://") else {
            throw ConfigurationError(key: "redis.url", expected: "a URL of the form redis[s]://[[user]:password@]host[:port]",
                                     found: redactedURL(redisURL))
        }
        let redisTLS = try redisTLSSettings()
        let clusterNodes = try clusterNodeURLs(tls: redisTLS)
        if clusterNodes.isEmpty, redisURL.hasPrefix("rediss://") {
            try checkRedisTLS(key: "redis.url") { _ = try RedisClientConfiguration(url: redisURL, tls: redisTLS) }
        }
        let postgresURL = try string("postgres.url", default: defaults.postgres.url)
        guard postgresURL.hasPrefix("postgresql://") || postgresURL.hasPrefix("postgres://") else {
            throw ConfigurationError(key: "postgres.url", expected: "a URL of the form postgresql://user[:password]@host[:port]/database",
                                     found: redactedURL(postgresURL))
        }
        let postgres = PostgresPool.Configuration(
            url: postgresURL,
            size: try int("postgres.pool_size", default: defaults.postgres.size, range: 1...256),
            connectTimeoutSeconds: try int("postgres.connect_timeout_seconds", default: defaults.postgres.connectTimeoutSeconds,
                                           range: 1...300),
            statementTimeoutMilliseconds: try int("postgres.statement_timeout_ms",
                                                  default: defaults.postgres.statementTimeoutMilliseconds, range: 1...600_000),
            maxQueued: try int("postgres.max_queued", default: defaults.postgres.maxQueued, range: 0...10_000_000))

        var ttls = CacheSettings.defaultTTLs
        for (key, families) in ConfigurationKeys.ttlFamilies {
            let seconds = try int("cache.ttl_seconds.\(key)", default: CacheSettings.defaultTTLs[families[0]] ?? 3_600,
                                  range: 1...(30 * 86_400))
            for family in families { ttls[family] = seconds }
        }
        let cache = CacheSettings(
            ttlSeconds: ttls,
            negativeTTLSeconds: try int("cache.negative_ttl_seconds", default: 60, range: 1...86_400),
            ttlJitterPercent: try int("cache.ttl_jitter_percent", default: 0, range: 0...100),
            leaderboardSize: try int("cache.leaderboard_size", default: 100, range: 1...10_000),
            maxBatchSize: try int("cache.max_batch_size", default: 500, range: 1...10_000))

        let level = try string("log.level", default: defaults.logLevel)
        let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
        guard levels.contains(level) else {
            throw ConfigurationError(key: "log.level", expected: "one of \(levels.joined(separator: ", "))", found: level)
        }
        let slot = try string("invalidation.replication_slot",
                              default: ReplicationSlot.defaultName(host: ReplicationSlot.hostName, port: server.port))
        guard ReplicationSlot.isValidName(slot) else {
            throw ConfigurationError(key: "invalidation.replication_slot",
                                     expected: "1 to 63 lower-case letters, digits or underscores", found: slot)
        }
        let sourceText = try string("invalidation.source", default: InvalidationSource.auto.rawValue)
        guard let source = InvalidationSource(rawValue: sourceText.trimmingWhitespace.lowercased()) else {
            throw ConfigurationError(key: "invalidation.source", expected: InvalidationSource.expectedForm, found: sourceText)
        }
        let invalidation = InvalidationSettings(
            enabled: try bool("invalidation.enabled", default: true),
            source: source,
            leaderboardIntervalSeconds: try int("invalidation.leaderboard_interval_seconds", default: 60, range: 0...86_400),
            replicationSlot: slot,
            slotRetainedWarningBytes: Int64(try int("invalidation.slot_retained_warning_bytes",
                                                    default: Int(InvalidationSettings.defaultSlotRetainedWarningBytes),
                                                    range: 0...(1 << 50))),
            flushFamiliesAboveKeys: try int("invalidation.flush_families_above_keys",
                                            default: InvalidationSettings.defaultFlushFamiliesAboveKeys,
                                            range: 1_000...100_000_000),
            listenerTimeoutSeconds: try int("invalidation.listener_timeout_seconds",
                                               default: InvalidationSettings.defaultListenerTimeoutSeconds,
                                               range: 1...3_600))
        let metricsEnabled = try bool("metrics.enabled", default: true)
        let metricsPort = try int("metrics.port", default: 9121, range: 0...65_535)
        var configuration = GatewayConfiguration(
            server: server,
            redisURL: redisURL,
            redisConnectTimeoutMilliseconds: try int("redis.connect_timeout_ms", default: 2_000, range: 1...600_000),
            redisCommandTimeoutMilliseconds: try int("redis.command_timeout_ms", default: 2_000, range: 1...600_000),
            postgres: postgres,
            cache: cache,
            invalidation: invalidation,
            metricsHost: try string("metrics.host", default: "127.0.0.1"),
            metricsPort: metricsEnabled ? metricsPort : nil,
            drainTimeoutSeconds: try int("server.drain_timeout_seconds", default: 10, range: 0...3_600),
            logLevel: level)
        configuration.redisClusterNodes = clusterNodes
        configuration.redisTLS = redisTLS
        configuration.nearCache = try nearCacheSettings(defaults.nearCache)
        configuration.metricsMaxConnections = try int("metrics.max_connections", default: defaults.metricsMaxConnections,
                                                      range: 1...100_000)
        configuration.metricsRequestTimeoutSeconds = try int("metrics.request_timeout_seconds",
                                                             default: defaults.metricsRequestTimeoutSeconds, range: 1...3_600)
        return configuration
    }

    /// `near_cache.*`: its size, its TTL and the families it keeps (on/off per family, keyed as
    /// `cache.ttl_seconds` is).
    private func nearCacheSettings(_ defaults: NearCacheSettings) throws -> NearCacheSettings {
        var families: Set<KeyFamily> = []
        for (key, members) in ConfigurationKeys.ttlFamilies
        where try bool("near_cache.families.\(key)", default: members.allSatisfy(defaults.families.contains)) {
            families.formUnion(members)
        }
        return NearCacheSettings(
            maxBytes: try int("near_cache.max_bytes", default: defaults.maxBytes, range: 0...(1 << 40)),
            ttlSeconds: try int("near_cache.ttl_seconds", default: defaults.ttlSeconds, range: 1...(30 * 86_400)),
            families: families)
    }

    /// The client buffer limits; the soft output limit must not pass the hard one.
    private func clientBufferLimits() throws -> ClientBufferLimits {
        let defaults = ClientBufferLimits.default
        let bytes = 0...(1 << 40)
        let limits = ClientBufferLimits(
            outputSoftBytes: try int("limits.client_output_buffer_soft_bytes", default: defaults.outputSoftBytes,
                                     range: 1024...(1 << 40)),
            outputHardBytes: try int("limits.client_output_buffer_hard_bytes", default: defaults.outputHardBytes,
                                     range: 1024...(1 << 40)),
            queryBytes: try int("limits.client_query_buffer_bytes", default: defaults.queryBytes, range: 1024...(1 << 40)),
            gatewayBytes: try int("limits.maxmemory_clients_bytes", default: defaults.gatewayBytes, range: bytes),
            inFlightBytesPerLoop: try int("limits.in_flight_bytes_per_loop", default: defaults.inFlightBytesPerLoop,
                                          range: 1024...(1 << 40)),
            missesInFlightPerLoop: try int("limits.misses_in_flight_per_loop", default: defaults.missesInFlightPerLoop,
                                           range: 1...10_000_000))
        guard limits.outputSoftBytes <= limits.outputHardBytes else {
            throw ConfigurationError(
                key: "limits.client_output_buffer_soft_bytes",
                expected: "at most limits.client_output_buffer_hard_bytes (\(limits.outputHardBytes))",
                found: String(limits.outputSoftBytes))
        }
        return limits
    }

    /// `redis.cluster_nodes`: comma-separated `redis[s]://host:port` seed URLs (database 0 only,
    /// all TLS or none).
    private func clusterNodeURLs(tls: RedisTLSSettings) throws -> [String] {
        let key = "redis.cluster_nodes"
        let text = try string(key, default: "")
        let urls = text.split(separator: ",").map { String($0).trimmingWhitespace }.filter { !$0.isEmpty }
        let expected = "comma-separated seed URLs redis[s]://[[user]:password@]host[:port] of cluster nodes "
            + "(database 0 only, all redis:// or all rediss://)"
        for url in urls {
            do {
                _ = try RedisClusterConfiguration(seedURLs: [urls[0], url])
            } catch let error as RedisURLError {
                throw ConfigurationError(key: key, expected: "\(expected): \(error)", found: redactedURL(url))
            }
        }
        if let first = urls.first, first.hasPrefix("rediss://") {
            try checkRedisTLS(key: key) { _ = try RedisClusterConfiguration(seedURLs: urls, tls: tls) }
        }
        return urls
    }

    /// The `redis.tls_*` keys, read whatever the URL's scheme (every key is read on every load).
    private func redisTLSSettings() throws -> RedisTLSSettings {
        func optional(_ key: String) throws -> String? {
            let value = try string(key, default: "")
            return value.isEmpty ? nil : value
        }
        return RedisTLSSettings(
            caCertificateFile: try optional("redis.tls_ca_cert_file"),
            certificateFile: try optional("redis.tls_cert_file"),
            keyFile: try optional("redis.tls_key_file"),
            serverName: try optional("redis.tls_server_name"),
            verifyServerName: try bool("redis.tls_verify_server_name", default: true))
    }

    /// Makes the Redis TLS context now, so that a missing or bad file stops start-up (and
    /// `--check-config`) naming its key and path.
    private func checkRedisTLS(key: String, _ make: () throws -> Void) throws {
        do {
            try make()
        } catch let error as RedisTLSError {
            let fileKey = switch error.file {
            case "CA certificate": "redis.tls_ca_cert_file"
            case "client certificate": "redis.tls_cert_file"
            default: "redis.tls_key_file"
            }
            throw ConfigurationError(key: fileKey, expected: "a PEM file for rediss:// in \(key)",
                                     found: "\(error.path): \(error.problem)")
        }
    }

    /// The TLS listener, when `server.tls_port` is set: its files are read now, so that a missing
    /// or bad one stops start-up (and `--check-config`) naming its key and path.
    private func tlsSettings(plaintextPort: Int?) throws -> TLSSettings? {
        let port = try int("server.tls_port", default: 0, range: 0...65_535)
        let certificate = try string(ServerTLS.certificateKey, default: "")
        let privateKey = try string(ServerTLS.privateKeyKey, default: "")
        let caCertificate = try string(ServerTLS.caCertificateKey, default: "")
        guard port > 0 else { return nil }
        if let plaintextPort, plaintextPort == port {
            throw ConfigurationError(key: "server.tls_port", expected: "a port other than server.port", found: String(port))
        }
        for (key, value) in [(ServerTLS.certificateKey, certificate), (ServerTLS.privateKeyKey, privateKey)] where value.isEmpty {
            throw ConfigurationError(key: key, expected: "a PEM file when server.tls_port is set", found: nil)
        }
        let settings = TLSSettings(port: port, certificateFile: certificate, keyFile: privateKey,
                                   caCertificateFile: caCertificate.isEmpty ? nil : caCertificate)
        _ = try ServerTLS.makeContext(settings)
        return settings
    }

    private func raw(_ key: String) throws -> String? {
        readKeys.keys.insert(key)
        return reader.string(forKey: ConfigKey(key), isSecret: ConfigurationLoader.isSecret(key))
    }

    func string(_ key: String, default value: String) throws -> String {
        try raw(key) ?? value
    }

    func bool(_ key: String, default value: Bool) throws -> Bool {
        guard let text = try raw(key) else { return value }
        switch text.trimmingWhitespace.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: throw ConfigurationError(key: key, expected: "true or false", found: text)
        }
    }

    func int(_ key: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = try raw(key) else { return value }
        let trimmed = text.trimmingWhitespace
        guard let number = Int(trimmed), range.contains(number) else {
            throw ConfigurationError(key: key, expected: "an integer in \(range.lowerBound)...\(range.upperBound)", found: text)
        }
        return number
    }
}

/// The keys a `ConfigurationValues` has read (a class: its reads are non-mutating).
private final class KeyLog {
    var keys: Set<String> = []
}

extension String {
    var trimmingWhitespace: String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
