import Invalidation
import NIOCore
import RedisBackend
import RESP

/// Cluster mode of the health probe: every primary is asked `INFO server`; Redis counts as
/// up when all answer. The primaries and their run ids together stand for "the Redis": when a
/// replica takes over (or a node restarts) that identity changes and the restart guard
/// flushes every family, as after a single Redis restart (a promoted replica may lack the
/// last invalidations its primary acknowledged).
extension HealthMonitor {
    func probeClusterNodes() {
        let deadline = eventLoop.scheduleTask(in: probeTimeout) { [self] in
            record(redis: false, problem: "not every Redis Cluster primary answered INFO server within "
                + "\(probeTimeout.nanoseconds / 1_000_000) ms")
        }
        redis.primaries(on: eventLoop).flatMap { [self] primaries in
            let probes = primaries.map { node in
                redis.send(["INFO", "server"], toNode: node, on: eventLoop).map { reply -> (ClusterNodeAddress, String?) in
                    guard case .bulkString(let text) = reply else { return (node, nil) }
                    return (node, RedisRestartGuard.runID(inInfo: String(buffer: text)))
                }.recover { _ in (node, nil) }
            }
            return EventLoopFuture.whenAllSucceed(probes, on: eventLoop)
        }.whenComplete { [self] result in
            deadline.cancel()
            switch result {
            case .success(let answers):
                clusterNodesUp.withLock { states in
                    states = Dictionary(uniqueKeysWithValues: answers.map { ($0.0, $0.1 != nil) })
                }
                let down = answers.filter { $0.1 == nil }.map { $0.0.description }
                guard down.isEmpty else {
                    record(redis: false, problem: "Redis Cluster primaries not answering: \(down.joined(separator: ","))")
                    return
                }
                record(redis: true, problem: nil)
                let identity = answers.map { "\($0.0)=\($0.1 ?? "")" }.sorted().joined(separator: ";")
                onRedisRunID?(identity)
            case .failure(let error):
                record(redis: false, problem: "\(error)")
            }
        }
    }

    /// `INFO gateway` lines of cluster mode: one per primary with its slots, replicas and state.
    var clusterInfoLines: [(String, String)] {
        guard let topology = redis.cluster else { return [("redis_mode", "single")] }
        guard let map = topology.map else {
            return [("redis_mode", "cluster"), ("redis_cluster_state", "no slot map yet")]
        }
        let up = clusterNodesUp.withLock { $0 }
        let slots = map.slotCounts
        var lines: [(String, String)] = [
            ("redis_mode", "cluster"),
            ("redis_cluster_primaries", String(map.primaries.count)),
            ("redis_cluster_uncovered_slots", String(map.uncoveredSlots)),
            ("redis_cluster_map_refreshes", String(topology.refreshCount)),
        ]
        for (index, primary) in map.primaries.enumerated() {
            let replicas = (map.replicas[primary] ?? []).map(\.description).joined(separator: "|")
            lines.append(("redis_node\(index)", "address=\(primary),role=primary,slots=\(slots[primary] ?? 0),"
                + "replicas=\(replicas.isEmpty ? "none" : replicas),status=\(up[primary] == true ? "up" : "down")"))
        }
        return lines
    }
}
