import NIOCore
import RESP
import Testing

@testable import RedisBackend

/// The pure parts of cluster routing: slots, hash tags, slot-map parsing, redirections and
/// the route of each command the gateway sends.
@Suite struct ClusterRoutingTests {
    @Test func crc16MatchesTheReferenceVector() {
        #expect(HashSlot.crc16(Array("123456789".utf8)) == 0x31C3)
        #expect(HashSlot.of("123456789") == 0x31C3 % 16_384)
    }

    @Test func slotsMatchRedisClusterKeyslot() {
        // Values from CLUSTER KEYSLOT on Redis 7.
        #expect(HashSlot.of("foo") == 12_182)
        #expect(HashSlot.of("bar") == 5_061)
        #expect(HashSlot.of("user:1") == 10_778)
        #expect(HashSlot.of("") == 0)
    }

    @Test func hashTagsPutKeysInOneSlot() {
        #expect(HashSlot.of("{user1000}.following") == HashSlot.of("{user1000}.followers"))
        #expect(HashSlot.of("{user1000}.following") == HashSlot.of("user1000"))
        // The writers set of a key shares the key's slot.
        #expect(HashSlot.of("quicksell:writers:{listing:42}") == HashSlot.of("listing:42"))
        // Only the first {...} counts; an empty tag hashes the whole key.
        #expect(HashSlot.of("foo{bar}{zap}") == HashSlot.of("bar"))
        #expect(HashSlot.of("foo{}{bar}") != HashSlot.of("bar"))
        #expect(HashSlot.of("foo{}{bar}") == HashSlot.crc16(Array("foo{}{bar}".utf8)) % 16_384)
        #expect(HashSlot.of("foo{{bar}}zap") == HashSlot.of("{bar"))
        #expect(HashSlot.of("{unclosed") == HashSlot.crc16(Array("{unclosed".utf8)) % 16_384)
        #expect(HashSlot.of(ByteBuffer(string: "{user1000}.x")) == HashSlot.of("user1000"))
    }

    @Test func redirectionsAreParsed() {
        let address = ClusterNodeAddress(host: "127.0.0.1", port: 7101)
        #expect(ClusterRedirection(errorMessage: "MOVED 3999 127.0.0.1:7101") == .moved(slot: 3999, to: address))
        #expect(ClusterRedirection(errorMessage: "ASK 3999 127.0.0.1:7101") == .ask(slot: 3999, to: address))
        #expect(ClusterRedirection(errorMessage: "TRYAGAIN Multiple keys request during rehashing of slot") == .tryAgain)
        #expect(ClusterRedirection(errorMessage: "CLUSTERDOWN The cluster is down") == .clusterDown)
        #expect(ClusterRedirection(errorMessage: "MOVED 3999 [::1]:7101")
            == .moved(slot: 3999, to: ClusterNodeAddress(host: "::1", port: 7101)))
        #expect(ClusterRedirection(errorMessage: "ERR unknown command") == nil)
        #expect(ClusterRedirection(errorMessage: "MOVED 99999 127.0.0.1:7101") == nil)
        #expect(ClusterRedirection(errorMessage: "MOVED 1 nowhere") == nil)
        #expect(ClusterRedirection(reply: .error(ByteBuffer(string: "MOVED 1 127.0.0.1:7101"))) == .moved(slot: 1, to: address))
        #expect(ClusterRedirection(reply: .bulkString(ByteBuffer(string: "MOVED 1 127.0.0.1:7101"))) == nil)
    }

    private func node(_ host: String, _ port: Int, _ id: String) -> RESPValue {
        .array([.bulkString(ByteBuffer(string: host)), .integer(Int64(port)), .bulkString(ByteBuffer(string: id))])
    }

    @Test func slotMapIsReadFromClusterSlots() throws {
        let reply = RESPValue.array([
            .array([.integer(0), .integer(5460), node("127.0.0.1", 7100, "a"), node("127.0.0.1", 7104, "d")]),
            .array([.integer(5461), .integer(10922), node("127.0.0.1", 7101, "b"), node("127.0.0.1", 7105, "e")]),
            .array([.integer(10923), .integer(16383), node("", 7102, "c")]),
        ])
        let map = try ClusterSlotMap(clusterSlotsReply: reply, defaultHost: "127.0.0.9")
        let first = ClusterNodeAddress(host: "127.0.0.1", port: 7100)
        let second = ClusterNodeAddress(host: "127.0.0.1", port: 7101)
        let third = ClusterNodeAddress(host: "127.0.0.9", port: 7102)
        #expect(map.owner(ofSlot: 0) == first)
        #expect(map.owner(ofSlot: 5460) == first)
        #expect(map.owner(ofSlot: 5461) == second)
        #expect(map.owner(ofSlot: 16383) == third)
        #expect(map.primaries.count == 3)
        #expect(map.replicas[first] == [ClusterNodeAddress(host: "127.0.0.1", port: 7104)])
        #expect(map.uncoveredSlots == 0)
        #expect(map.slotCounts[second] == 5462)

        let moved = map.moving(slot: 0, to: second)
        #expect(moved.owner(ofSlot: 0) == second)
        #expect(moved.owner(ofSlot: 1) == first)
        let elsewhere = ClusterNodeAddress(host: "127.0.0.1", port: 7109)
        #expect(map.moving(slot: 7, to: elsewhere).owner(ofSlot: 7) == elsewhere)
    }

    @Test func partialAndMalformedSlotMaps() throws {
        let partial = RESPValue.array([.array([.integer(0), .integer(99), node("127.0.0.1", 7100, "a")])])
        let map = try ClusterSlotMap(clusterSlotsReply: partial, defaultHost: "127.0.0.1")
        #expect(map.owner(ofSlot: 100) == nil)
        #expect(map.uncoveredSlots == 16_384 - 100)
        #expect(throws: ClusterSlotMap.ParseError.self) {
            try ClusterSlotMap(clusterSlotsReply: .array([]), defaultHost: "h")
        }
        #expect(throws: ClusterSlotMap.ParseError.self) {
            try ClusterSlotMap(clusterSlotsReply: .error(ByteBuffer(string: "ERR This instance has cluster support disabled")),
                               defaultHost: "h")
        }
        #expect(throws: ClusterSlotMap.ParseError.self) {
            try ClusterSlotMap(clusterSlotsReply: .array([.array([.integer(5), .integer(2), self.node("h", 1, "x")])]),
                               defaultHost: "h")
        }
        #expect(throws: ClusterSlotMap.ParseError.self) {
            try ClusterSlotMap(clusterSlotsReply: .array([.array([.integer(0), .integer(20_000), self.node("h", 1, "x")])]),
                               defaultHost: "h")
        }
    }

    @Test func commandsAreRoutedByTheirKeys() {
        #expect(CommandRoute.of(["GET", "user:1"]) == .slot(HashSlot.of("user:1")))
        #expect(CommandRoute.of(["pttl", "user:1"]) == .slot(HashSlot.of("user:1")))
        #expect(CommandRoute.of(["MGET", "{a}1", "{a}2"]) == .slot(HashSlot.of("a")))
        #expect(CommandRoute.of(["MGET", "user:1", "user:2"]) == .split(.mget))
        #expect(CommandRoute.of(["UNLINK", "user:1", "user:2"]) == .split(.sumOfCounts))
        #expect(CommandRoute.of(["DEL", "user:1"]) == .slot(HashSlot.of("user:1")))
        #expect(CommandRoute.of(["EXISTS", "user:1", "listing:1"]) == .split(.sumOfCounts))
        // Scripts: numkeys, then the keys.
        #expect(CommandRoute.of(["EVAL", "return 1", "2", "user:1", "quicksell:writers:{user:1}", "v"])
            == .slot(HashSlot.of("user:1")))
        #expect(CommandRoute.of(["EVALSHA", "abc", "2", "user:1", "user:2"]) == .crossSlot)
        #expect(CommandRoute.of(["EVAL", "return 1", "0", "cursor"]) == .anyNode)
        #expect(CommandRoute.of(["EVAL", "return 1", "3", "onlyone"]) == .anyNode)
        // No keys.
        for name in ["PING", "INFO", "SCAN", "FLUSHALL", "SCRIPT"] {
            #expect(CommandRoute.of([name, "x"]) == .anyNode, "\(name)")
        }
        #expect(CommandRoute.of([ByteBuffer(string: "GET"), ByteBuffer(string: "listing:9")]) == .slot(HashSlot.of("listing:9")))
    }

    @Test func seedURLsAreValidated() throws {
        let configuration = try RedisClusterConfiguration(seedURLs: ["redis://127.0.0.1:7100", "redis://:pw@127.0.0.1:7101"])
        #expect(configuration.seeds == [ClusterNodeAddress(host: "127.0.0.1", port: 7100),
                                        ClusterNodeAddress(host: "127.0.0.1", port: 7101)])
        #expect(configuration.node.password == "pw")
        #expect(throws: RedisURLError.self) { try RedisClusterConfiguration(seedURLs: ["redis://127.0.0.1:7100/3"]) }
        #expect(throws: RedisURLError.self) { try RedisClusterConfiguration(seedURLs: ["http://x"]) }
        #expect(throws: RedisURLError.self) { try RedisClusterConfiguration(seedURLs: []) }
    }
}
