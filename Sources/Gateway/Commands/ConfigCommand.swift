import NIOCore
import RESP

/// `CONFIG GET parameter …`: the few parameters tools ask for (redis-benchmark reads
/// `save` and `appendonly`), answered from the gateway's own configuration, and the limits
/// Redis has under the same names, in Redis's forms.
extension CommandDispatcher {
    func config(_ arguments: [ByteBuffer], spec: CommandSpec, session: ClientSession) -> RESPValue {
        switch subcommand(arguments, of: spec) {
        case .failure(let error): return error.reply
        case .success: break
        }
        let configuration = environment.configuration
        let known: [(String, String)] = [
            ("maxclients", String(configuration.maxClients)),
            ("timeout", String(configuration.idleTimeoutSeconds)),
            ("port", String(environment.boundPort)),
            ("tls-port", String(environment.boundTLSPort)),
            ("bind", configuration.host),
            ("databases", "1"),
            ("save", ""),
            ("appendonly", "no"),
            ("proto-max-bulk-len", String(configuration.limits.maxBulkLength)),
            // Redis's form: class, hard limit, soft limit, soft seconds (the gateway's soft limit
            // holds requests back at once rather than closing after a while).
            ("client-output-buffer-limit",
             "normal \(configuration.bufferLimits.outputHardBytes) \(configuration.bufferLimits.outputSoftBytes) 0"),
            ("client-query-buffer-limit", String(configuration.bufferLimits.queryBytes)),
            ("maxmemory-clients", String(configuration.bufferLimits.gatewayBytes)),
        ]
        var pairs: [RESPPair] = []
        for pattern in arguments.dropFirst(2).map(\.lowercasedASCII) {
            for (key, value) in known where globMatches(pattern, key) && !pairs.contains(where: { $0.key == .bulkString(key) }) {
                pairs.append(pair(key, .bulkString(value)))
            }
        }
        return .map(pairs)
    }
}

/// Redis-style glob match supporting `*` and `?` (enough for CONFIG GET patterns).
func globMatches(_ pattern: String, _ text: String) -> Bool {
    let p = Array(pattern.utf8)
    let t = Array(text.utf8)
    var pi = 0, ti = 0, starP = -1, starT = 0
    while ti < t.count {
        if pi < p.count && (p[pi] == UInt8(ascii: "?") || p[pi] == t[ti]) {
            pi += 1
            ti += 1
        } else if pi < p.count && p[pi] == UInt8(ascii: "*") {
            starP = pi
            starT = ti
            pi += 1
        } else if starP >= 0 {
            pi = starP + 1
            starT += 1
            ti = starT
        } else {
            return false
        }
    }
    while pi < p.count && p[pi] == UInt8(ascii: "*") { pi += 1 }
    return pi == p.count
}
