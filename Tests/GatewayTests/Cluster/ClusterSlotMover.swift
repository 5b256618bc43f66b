import Foundation
import TestSupport

/// Moves hash slots between primaries of the test cluster the way `redis-cli --cluster
/// reshard` does: `SETSLOT IMPORTING` on the target, `SETSLOT MIGRATING` on the source,
/// `MIGRATE` of the slot's keys a few at a time, then `SETSLOT NODE` on every primary.
struct ClusterSlotMover {
    struct Failure: Error, CustomStringConvertible { let description: String }

    /// Moves `slot` from its owner to another primary; returns (from port, to port).
    @discardableResult
    static func move(slot: Int, keysPerStep: Int = 1, pauseMicroseconds: UInt32 = 2_000) throws -> (from: Int, to: Int) {
        let primaries = try TestCluster.primaries()
        guard let source = primaries.first(where: { $0.slots.contains { $0.contains(slot) } }),
              let target = primaries.first(where: { $0.port != source.port })
        else { throw Failure(description: "no owner or no second primary for slot \(slot)") }
        let from = try RedisTestClient(port: source.port)
        let to = try RedisTestClient(port: target.port)
        guard let sourceID = try from.command("CLUSTER", "MYID").string,
              let targetID = try to.command("CLUSTER", "MYID").string
        else { throw Failure(description: "CLUSTER MYID failed") }
        try expectOK(to.command("CLUSTER", "SETSLOT", String(slot), "IMPORTING", sourceID))
        try expectOK(from.command("CLUSTER", "SETSLOT", String(slot), "MIGRATING", targetID))
        while true {
            guard case .array(let keys) = try from.command("CLUSTER", "GETKEYSINSLOT", String(slot), String(keysPerStep)),
                  !keys.isEmpty
            else { break }
            let names = keys.compactMap(\.string)
            try expectOK(from.command(["MIGRATE", "127.0.0.1", String(target.port), "", "0", "5000", "KEYS"] + names))
            usleep(pauseMicroseconds)
        }
        // The target first, then the source, then everyone else (as redis-cli does).
        try expectOK(to.command("CLUSTER", "SETSLOT", String(slot), "NODE", targetID))
        try expectOK(from.command("CLUSTER", "SETSLOT", String(slot), "NODE", targetID))
        for other in primaries where other.port != source.port && other.port != target.port {
            _ = try RedisTestClient(port: other.port).command("CLUSTER", "SETSLOT", String(slot), "NODE", targetID)
        }
        return (source.port, target.port)
    }

    private static func expectOK(_ reply: RedisTestClient.Reply) throws {
        guard reply == .status("OK") else { throw Failure(description: "cluster command failed: \(reply)") }
    }
}
