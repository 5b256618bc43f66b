import CacheModel
import NIOCore
import RESP

#if canImport(Glibc)
import Glibc
#endif

/// `INFO [section …]` in Redis's text format: `# Section` headers and `key:value` lines.
extension CommandDispatcher {
    static let defaultInfoSections = ["server", "clients", "stats", "gateway", "families", "near_cache", "invalidation", "operator"]

    func info(_ arguments: [ByteBuffer], session: ClientSession) -> RESPValue {
        var wanted = arguments.dropFirst().map(\.lowercasedASCII)
        if wanted.isEmpty || wanted.contains("default") || wanted.contains("all") || wanted.contains("everything") {
            wanted = Self.defaultInfoSections
        }
        var text = ""
        for section in Self.defaultInfoSections where wanted.contains(section) {
            guard let lines = infoLines(section) else { continue }
            if !text.isEmpty { text += "\r\n" }
            text += "# \(section.prefix(1).uppercased() + section.dropFirst())\r\n"
            for (key, value) in lines { text += "\(key):\(value)\r\n" }
        }
        return .verbatimOrBulk(text, version: session.protocolVersion)
    }

    private func infoLines(_ section: String) -> [(String, String)]? {
        let stats = environment.stats
        switch section {
        case "server":
            return [
                ("redis_version", environment.compatibleRedisVersion),
                ("gateway_version", environment.gatewayVersion),
                ("redis_mode", "standalone"),
                ("os", "Linux"),
                ("arch_bits", String(MemoryLayout<Int>.size * 8)),
                ("process_id", String(getpid())),
                ("tcp_port", String(environment.boundPort)),
                ("tls_port", String(environment.boundTLSPort)),
                ("server_time_usec", String(WallClock.nowMicroseconds())),
                ("uptime_in_seconds", String(stats.uptimeSeconds)),
                ("uptime_in_days", String(stats.uptimeSeconds / 86_400)),
                ("io_threads_active", "0"),
                ("event_loop_threads", String(environment.configuration.eventLoopThreads)),
            ]
        case "clients":
            return [
                ("connected_clients", String(environment.registry.count)),
                ("maxclients", String(environment.configuration.maxClients)),
                ("blocked_clients", "0"),
                ("tracking_clients", String(environment.tracking.counts.clients)),
                // Redis reports this under Memory; the gateway's INFO has no memory section.
                ("mem_clients_normal", String(environment.clientMemory.totalBytes)),
                ("maxmemory_clients", String(environment.configuration.bufferLimits.gatewayBytes)),
            ]
        case "stats":
            return [
                ("total_connections_received", String(stats.totalConnectionsReceived)),
                ("total_commands_processed", String(stats.totalCommandsProcessed)),
                ("rejected_connections", String(stats.totalRejectedConnections)),
                ("total_error_replies", String(stats.totalErrorReplies)),
                ("protocol_errors", String(stats.totalProtocolErrors)),
                ("acl_access_denied_auth", String(stats.totalAuthFailures)),
                ("request_timeouts", String(stats.totalRequestTimeouts)),
                ("client_query_buffer_limit_disconnections",
                 String(environment.clientMemory.disconnections(.queryBuffer))),
                ("client_output_buffer_limit_disconnections",
                 String(environment.clientMemory.disconnections(.outputBuffer))),
                ("evicted_clients", String(environment.clientMemory.disconnections(.gatewayLimit))),
                ("keyspace_hits", String(environment.cache?.stats.totalHits ?? 0)),
                ("keyspace_misses", String(environment.cache?.stats.totalMisses ?? 0)),
                ("postgres_queries", String(environment.cache?.stats.totalQueries ?? 0)),
                ("tracking_total_keys", String(environment.tracking.counts.keys)),
                ("tracking_max_keys", String(environment.tracking.maxKeys)),
                ("tracking_keys_forgotten_for_room", String(environment.tracking.counts.evictions)),
            ]
        case "gateway":
            return environment.health?.infoLines ?? [("ready", "0"), ("backends", "none")]
        case "near_cache":
            return nearCacheLines()
        case "invalidation":
            return environment.invalidation?.infoLines ?? [("invalidation_status", "off")]
        case "operator":
            return environment.operations?.progress.infoLines ?? []
        case "families":
            // One line per family, in the style of Redis's keyspace section.
            guard let familyStats = environment.cache?.stats else { return [] }
            return KeyFamily.allCases.map { family in
                let counters = familyStats[family]
                return ("family_\(family.infoName)", "hits=\(counters.hitCount),misses=\(counters.missCount),"
                    + "negative_hits=\(counters.negativeHitCount),fills=\(counters.fillCount),"
                    + "absent_fills=\(counters.absentFillCount),queries=\(counters.queryCount),"
                    + "fill_errors=\(counters.fillErrorCount),query_usec_avg=\(counters.meanQueryMicroseconds),"
                    + "shed=\(counters.shedCount)")
            }
        default:
            return nil
        }
    }

    /// The near cache's size and counters (`near_cache_enabled:0` when it is off).
    private func nearCacheLines() -> [(String, String)] {
        guard let near = environment.cache?.near else { return [("near_cache_enabled", "0")] }
        let counters = near.snapshot()
        return [
            ("near_cache_enabled", "1"),
            ("near_cache_max_bytes", String(near.settings.maxBytes)),
            ("near_cache_ttl_seconds", String(near.settings.ttlSeconds)),
            ("near_cache_bytes", String(counters.bytes)),
            ("near_cache_entries", String(counters.entries)),
            ("near_cache_hits", String(counters.hits)),
            ("near_cache_misses", String(counters.misses)),
            ("near_cache_stores", String(counters.stores)),
            ("near_cache_evictions", String(counters.evictions)),
            ("near_cache_not_admitted", String(counters.notAdmitted)),
            ("near_cache_offers_after_invalidation", String(counters.invalidatedOffers)),
        ]
    }

}
