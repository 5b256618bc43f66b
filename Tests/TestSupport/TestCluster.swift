import Foundation

/// The local test Redis Cluster that `make test` starts (`scripts/cluster.sh`): its nodes,
/// which of them are primaries now, and the PIDs of their processes (for failover tests).
public enum TestCluster {
    /// The ports of the seed nodes.
    public static func seedPorts() throws -> [Int] {
        try TestEnvironment.clusterURLs().compactMap { url in url.split(separator: ":").last.flatMap { Int($0) } }
    }

    /// Ports of every node (seeds first): the script starts six on consecutive ports.
    public static func nodePorts() throws -> [Int] {
        guard let base = try seedPorts().min() else { return [] }
        return Array(base..<(base + 6))
    }

    /// The primaries serving slots now, as (port, first slot of each range) from `CLUSTER SLOTS`.
    public static func primaries() throws -> [(port: Int, slots: [ClosedRange<Int>])] {
        var lastError: (any Error)?
        for port in try nodePorts() {
            do {
                let client = try RedisTestClient(port: port, timeoutSeconds: 2)
                guard case .array(let ranges) = try client.command("CLUSTER", "SLOTS") else { continue }
                var byPort: [Int: [ClosedRange<Int>]] = [:]
                for range in ranges {
                    guard case .array(let parts) = range, parts.count >= 3,
                          case .integer(let start) = parts[0], case .integer(let end) = parts[1],
                          case .array(let node) = parts[2], node.count >= 2, case .integer(let nodePort) = node[1]
                    else { continue }
                    byPort[Int(nodePort), default: []].append(Int(start)...Int(end))
                }
                return byPort.keys.sorted().map { ($0, byPort[$0] ?? []) }
            } catch {
                lastError = error
            }
        }
        throw lastError ?? RedisTestClient.ConnectionError(description: "no cluster node answered CLUSTER SLOTS")
    }

    /// Empties every primary (the cluster has only database 0, so tests share it: each starts clean).
    public static func flushAllPrimaries() throws {
        for primary in try primaries() {
            _ = try RedisTestClient(port: primary.port).command("FLUSHALL")
        }
    }

    /// A client that reaches any key of the cluster (it follows MOVED and ASK).
    public static func client() throws -> RedisTestClient {
        let ports = try seedPorts()
        var lastError: (any Error)?
        for port in ports {
            do {
                let client = try RedisTestClient(port: port)
                client.followsClusterRedirections = true
                return client
            } catch {
                lastError = error
            }
        }
        throw lastError ?? RedisTestClient.ConnectionError(description: "no cluster seed configured")
    }

    /// The PID of the node on `port` (from the PID file the cluster script keeps).
    public static func pid(ofNodeOn port: Int) throws -> Int32 {
        let directory = try TestEnvironment.required("QUICKSELL_TEST_CLUSTER_DIR")
        let text = try String(contentsOfFile: "\(directory)/\(port)/redis.pid", encoding: .utf8)
        guard let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw RedisTestClient.ConnectionError(description: "no PID in the PID file of cluster node \(port)")
        }
        return pid
    }

    /// Starts a stopped node again with its saved cluster state (it rejoins as a replica).
    public static func restartNode(on port: Int) throws {
        let script = try TestEnvironment.required("QUICKSELL_TEST_CLUSTER_SCRIPT")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script, "start-node", String(port)]
        try process.run()
        process.waitUntilExit()
    }
}
