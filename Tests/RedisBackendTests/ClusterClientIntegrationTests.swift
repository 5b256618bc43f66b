import NIOCore
import NIOPosix
import RESP
import Testing
import TestSupport

@testable import RedisBackend

/// `RedisClient` in cluster mode against the local test cluster (`scripts/cluster.sh`):
/// keys of every slot, multi-key commands split per slot, node-level calls.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct ClusterClientIntegrationTests {
    private func withClusterClient<T>(_ body: (RedisClient, MultiThreadedEventLoopGroup) async throws -> T) async throws -> T {
        try await withClient(loops: 2, make: { group in
            RedisClient(cluster: try RedisClusterConfiguration(seedURLs: try TestEnvironment.clusterURLs()), group: group)
        }, body)
    }

    @Test func keysOfEverySlotRoundTripAndMultiKeyCommandsAreSplit() async throws {
        try await withClusterClient { client, group in
            try await client.connectAll()
            #expect(client.isCluster)
            #expect(client.isFullyConnected)
            let loop = group.next()
            let prefix = uniquePrefix("cluster")
            let keys = (0..<500).map { "\(prefix):\($0)" }
            for (index, key) in keys.enumerated() {
                #expect(try await client.send(["SET", key, "v\(index)"], on: loop).get() == .simpleString(ByteBuffer(string: "OK")))
            }
            // One MGET across many slots: values come back in key order, missing keys as nulls.
            let reply = try await client.send(["MGET"] + keys + ["\(prefix):absent"], on: loop).get()
            guard case .array(let values) = reply else {
                Issue.record("MGET gave \(reply)")
                return
            }
            #expect(values.count == keys.count + 1)
            for (index, value) in values.prefix(keys.count).enumerated() {
                #expect(value.text == "v\(index)")
            }
            #expect(values.last?.isNull == true)
            #expect(try await client.send(["EXISTS"] + keys.prefix(100), on: loop).get() == .integer(100))

            // Every primary answers; the keys are spread over all of them.
            let primaries = try await client.primaries(on: loop).get()
            #expect(primaries.count == 3)
            for node in primaries {
                let size = try await client.send(["DBSIZE"], toNode: node, on: loop).get()
                guard case .integer(let count) = size else {
                    Issue.record("DBSIZE on \(node) gave \(size)")
                    continue
                }
                #expect(count > 0, "\(node)")
            }

            #expect(try await client.send(["UNLINK"] + keys, on: loop).get() == .integer(Int64(keys.count)))
            #expect(try await client.send(["EXISTS"] + keys, on: loop).get() == .integer(0))
            #expect(client.cluster?.map?.uncoveredSlots == 0)
        }
    }

    @Test func aScriptWithKeysOfSeveralSlotsIsRefusedAsCrossSlot() async throws {
        try await withClusterClient { client, group in
            let reply = try await client.send(["EVAL", "return 1", "2", "a", "b"], on: group.next()).get()
            #expect(reply.text?.hasPrefix("CROSSSLOT") == true, "\(reply)")
            let tagged = try await client.send(["EVAL", "return 1", "2", "{a}1", "{a}2"], on: group.next()).get()
            #expect(tagged == .integer(1))
        }
    }

    @Test func anUnreachableClusterFailsWithTheSeedsNamed() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var configuration = try RedisClusterConfiguration(seedURLs: ["redis://127.0.0.1:\(try await freeLocalPort())"])
        configuration.node.connectTimeout = .milliseconds(200)
        let client = RedisClient(cluster: configuration, group: group)
        await #expect(throws: RedisClientError.self) { try await client.connectAll() }
        do {
            let reply = try await client.send(["GET", "x"], on: group.next()).get()
            Issue.record("GET succeeded on an unreachable cluster: \(reply)")
        } catch {
            #expect("\(error)".contains("cluster slot map"), "\(error)")
        }
        await client.shutdown()
        try await group.shutdownGracefully()
    }
}
