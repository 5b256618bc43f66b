import NIOCore
import RESP

#if canImport(Glibc)
import Glibc
#endif

/// `INFO [section …]` in Redis's text format: `# Section` headers and `key:value` lines.
extension CommandDispatcher {
    static let defaultInfoSections = ["server", "clients", "stats"]

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
                ("server_time_usec", String(Self.nowMicroseconds())),
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
            ]
        case "stats":
            return [
                ("total_connections_received", String(stats.totalConnectionsReceived)),
                ("total_commands_processed", String(stats.totalCommandsProcessed)),
                ("rejected_connections", String(stats.totalRejectedConnections)),
                ("total_error_replies", String(stats.totalErrorReplies)),
                ("protocol_errors", String(stats.totalProtocolErrors)),
                ("keyspace_hits", String(stats.totalKeyspaceHits)),
                ("keyspace_misses", String(stats.totalKeyspaceMisses)),
            ]
        default:
            return nil
        }
    }

    static func nowMicroseconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int(now.tv_sec) * 1_000_000 + Int(now.tv_nsec) / 1000
    }
}
