import CacheModel
import NIOCore
import RedisBackend
import RESP

extension StatsReport.RedisNode {
    /// Every primary's DBSIZE in cluster mode; nil for a single Redis.
    static func probeEveryPrimary(_ redis: RedisClient, on eventLoop: any EventLoop) -> EventLoopFuture<[StatsReport.RedisNode]?> {
        guard redis.isCluster else { return eventLoop.makeSucceededFuture(nil) }
        let slots = redis.cluster?.map?.slotCounts ?? [:]
        return redis.primaries(on: eventLoop).flatMap { primaries in
            let probes = primaries.map { node in
                redis.send(["DBSIZE"], toNode: node, on: eventLoop).map { reply -> StatsReport.RedisNode in
                    guard case .integer(let count) = reply else {
                        return StatsReport.RedisNode(address: node.description, status: "down", keys: nil, slots: slots[node],
                                         error: "unexpected DBSIZE reply \(reply)")
                    }
                    return StatsReport.RedisNode(address: node.description, status: "ok", keys: Int(count), slots: slots[node], error: nil)
                }.recover { error in
                    StatsReport.RedisNode(address: node.description, status: "down", keys: nil, slots: slots[node], error: "\(error)")
                }
            }
            return EventLoopFuture.whenAllSucceed(probes, on: eventLoop).map { Optional($0) }
        }.recover { _ in nil }
    }
}
