import Foundation
import Gateway
import RESP
import Testing

/// MULTI/EXEC/WATCH, CLIENT REPLY and AUTH on the wire: the replies of the reference Redis 7
/// where Redis answers the same, and the read-through and invalidation behaviour with
/// PostgreSQL behind the gateway.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct TransactionWireTests {
    /// Each sequence pipelined in one write to the gateway and to Redis: the same replies.
    @Test func transactionRepliesMatchRedis() async throws {
        let redisPort = try await referenceRedisPort()
        let sequences: [[[String]]] = [
            [["MULTI"], ["MULTI"], ["ECHO", "a"], ["EXEC"]],
            [["MULTI"], ["WATCH", "a"], ["PING"], ["EXEC"]],
            [["MULTI"], ["NOSUCH", "x"], ["PING"], ["EXEC"]],
            [["MULTI"], ["ECHO"], ["EXEC"]],
            [["EXEC"], ["DISCARD"], ["UNWATCH"], ["WATCH"]],
            [["MULTI"], ["EXEC", "x"], ["EXEC"]],
            [["MULTI"], ["DISCARD", "x"], ["PING"], ["EXEC"]],
            [["MULTI", "x"], ["UNWATCH", "x"], ["MULTI"], ["UNWATCH"], ["EXEC"]],
            [["WATCH", "a"], ["MULTI"], ["DISCARD"], ["MULTI"], ["PING"], ["ECHO", "b"], ["EXEC"]],
            [["MULTI"], ["EXEC"], ["MULTI"], ["PING"], ["RESET"], ["EXEC"]],
            [["MULTI"], ["CLIENT", "NOSUCH"], ["EXEC"]],
            [["AUTH", "default", "anything"], ["AUTH", "someone", "x"], ["AUTH", "x"]],
            [["CLIENT", "NO-EVICT", "on"], ["CLIENT", "NO-EVICT", "off"], ["CLIENT", "NO-EVICT", "maybe"]],
            [["CLIENT", "REPLY", "maybe"], ["CLIENT", "REPLY"], ["SELECT", "x"]],
        ]
        try await withGateway { server in
            for sequence in sequences {
                let gateway = try RawClient(port: server.localPort)
                let redis = try RawClient(port: redisPort)
                try gateway.send(sequence.map(Self.encode).joined())
                try redis.send(sequence.map(Self.encode).joined())
                for index in sequence.indices {
                    let expected = try redis.readReply()
                    let actual = try gateway.readReply()
                    #expect(actual == expected, "\(sequence) reply \(index): \(actual) instead of \(expected)")
                }
            }
        }
    }

    /// CLIENT REPLY OFF/ON/SKIP: the same replies as Redis, nothing more (the closing PING's
    /// PONG comes next on both).
    @Test func clientReplySuppressesAndSkipsAsRedis() async throws {
        let redisPort = try await referenceRedisPort()
        let sequence = [
            ["CLIENT", "REPLY", "OFF"], ["PING"], ["ECHO", "hidden"], ["CLIENT", "REPLY", "SKIP"], ["CLIENT", "REPLY", "ON"],
            ["ECHO", "shown-1"], ["CLIENT", "REPLY", "SKIP"], ["ECHO", "skipped"], ["ECHO", "shown-2"], ["PING"],
        ]
        try await withGateway { server in
            let gateway = try RawClient(port: server.localPort)
            let redis = try RawClient(port: redisPort)
            try gateway.send(sequence.map(Self.encode).joined())
            try redis.send(sequence.map(Self.encode).joined())
            let expected = [RESPValue.simpleString("OK"), .bulkString("shown-1"), .bulkString("shown-2"), .simpleString("PONG")]
            for value in expected {
                #expect(try redis.readReply() == value)
                #expect(try gateway.readReply() == value)
            }
            #expect(try gateway.command("ECHO", "after") == .bulkString("after"))
        }
    }

    @Test func connectionModesLibrariesSendAreAccepted() async throws {
        try await withGateway { server in
            let client = try RawClient(port: server.localPort)
            #expect(try client.command("CLIENT", "NO-TOUCH", "on") == .simpleString("OK"))
            #expect(try client.command("CLIENT", "NO-TOUCH", "off") == .simpleString("OK"))
            #expect(try client.command("CLIENT", "NO-TOUCH", "x") == .error("ERR syntax error"))
            #expect(try client.command("CLIENT", "MAINT_NOTIFICATIONS", "ON", "moving-endpoint-type", "internal-ip")
                == .simpleString("OK"))
            #expect(try client.command("CLIENT", "MAINT_NOTIFICATIONS", "off") == .simpleString("OK"))
            #expect(try client.command("CLIENT", "MAINT_NOTIFICATIONS", "maybe") == .error("ERR syntax error"))
            #expect(try client.command("CLIENT", "MAINT_NOTIFICATIONS", "on", "moving-endpoint-type")
                == .error("ERR syntax error"))
            // HELLO with credentials for the password-less default user succeeds, as on Redis.
            guard case .map(let pairs) = try client.command("HELLO", "3", "AUTH", "default", "x") else {
                Issue.record("HELLO 3 AUTH default x should answer a map")
                return
            }
            #expect(pairs.contains(RESPPair(key: .bulkString("proto"), value: .integer(3))))
        }
    }

    @Test func aWriteInsideMultiIsRefusedAsOutsideAndAbortsTheTransaction() async throws {
        try await withGateway { server in
            let client = try RawClient(port: server.localPort)
            let outside = try client.command("SET", "user:1", "x")
            #expect(outside.text?.hasPrefix("READONLY SET to 'user:1' refused") == true, "\(outside)")
            #expect(try client.command("MULTI") == .simpleString("OK"))
            #expect(try client.command("SET", "user:1", "x") == outside)
            #expect(try client.command("PING") == .simpleString("QUEUED"))
            #expect(try client.command("EXEC") == .error("EXECABORT Transaction discarded because of previous errors."))
        }
    }

    @Test func noauthInsideMultiAbortsAsRedis() async throws {
        try await withGateway(users: UserDirectory(requirePass: "pw")) { server in
            let client = try RawClient(port: server.localPort)
            #expect(try client.command("MULTI") == .error("NOAUTH Authentication required."))
            #expect(try client.command("EXEC") == .error("EXECABORT Transaction discarded because of: NOAUTH Authentication required."))
            #expect(try client.command("AUTH", "default", "x") == .error("WRONGPASS invalid username-password pair or user is disabled."))
            #expect(try client.command("AUTH", "pw") == .simpleString("OK"))
            #expect(try client.command("MULTI") == .simpleString("OK"))
            #expect(try client.command("EXEC") == .array([]))
        }
    }

    /// A read user's operator command inside MULTI: NOPERM in Redis 7's words at queue time.
    @Test func nopermInsideMultiAbortsTheTransaction() async throws {
        try await withGateway(users: UserDirectory(requirePass: nil, users: [("reader", "pw", .read)])) { server in
            let client = try RawClient(port: server.localPort)
            #expect(try client.command("AUTH", "reader", "pw") == .simpleString("OK"))
            #expect(try client.command("MULTI") == .simpleString("OK"))
            #expect(try client.command("DEL", "user:1") == .error("NOPERM this user has no permissions to run the 'del' command"))
            #expect(try client.command("PING") == .simpleString("QUEUED"))
            #expect(try client.command("EXEC") == .error("EXECABORT Transaction discarded because of previous errors."))
        }
    }

    /// Misses read through inside EXEC, replies in order, RESP2 and RESP3, pipelined.
    @Test(arguments: [2, 3])
    func execReadsThroughInOrder(protocolVersion: Int) async throws {
        let harness = try await GatewayHarness(label: "tx_exec", setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        let client = try RawClient(port: harness.port)
        _ = try client.command("HELLO", String(protocolVersion))
        // Cached before, so that TTL has a copy to read (it does not fill; a fill's store
        // follows its reply); listing:10 stays a miss.
        #expect(try client.command("GET", "user:1").text?.contains("\"alice\"") == true)
        let direct = try harness.directRedis()
        #expect(try await eventually(seconds: 5) { (try direct.command("PTTL", "user:1").integerValue ?? -2) > 0 })
        let commands = [["MULTI"], ["GET", "user:1"], ["MGET", "listing:10", "user:999999"], ["EXISTS", "user:1", "user:2"],
                        ["TTL", "user:1"], ["GET", "nosuch:1"], ["EXEC"]]
        try client.send(commands.map(Self.encode).joined())
        #expect(try client.readReply() == .simpleString("OK"))
        for _ in 1...5 { #expect(try client.readReply() == .simpleString("QUEUED")) }
        guard case .array(let replies) = try client.readReply(), replies.count == 5 else {
            Issue.record("EXEC should answer an array of 5")
            return
        }
        #expect(replies[0].text?.contains("\"alice\"") == true, "\(replies[0])")
        guard case .array(let mget) = replies[1], mget.count == 2 else {
            Issue.record("MGET inside EXEC: \(replies[1])")
            return
        }
        #expect(mget[0].text?.contains("\"Lamp\"") == true)
        #expect(mget[1] == (protocolVersion == 3 ? .null : .nullBulkString))
        #expect(replies[2] == .integer(2))
        guard case .integer(let ttl) = replies[3] else {
            Issue.record("TTL inside EXEC: \(replies[3])")
            return
        }
        #expect(ttl > 0)
        guard case .error = replies[4] else {
            Issue.record("a key of no family is an error element, not an abort: \(replies[4])")
            return
        }
        #expect(try client.command("GET", "user:1") == replies[0])  // the connection goes on
    }

    /// EXEC answers null when a watched key was invalidated after WATCH: by a PostgreSQL
    /// write, DEL, a family flush and a full flush; not when nothing was.
    @Test(arguments: [2, 3])
    func watchAbortsAfterEveryKindOfInvalidation(protocolVersion: Int) async throws {
        let harness = try await GatewayHarness(label: "tx_watch", setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        try await harness.waitForListener()
        let client = try RawClient(port: harness.port)
        _ = try client.command("HELLO", String(protocolVersion))
        let aborted: RESPValue = protocolVersion == 3 ? .null : .nullArray
        let watcher = try harness.client()

        func transaction(watching key: String, between invalidate: () async throws -> Void) async throws -> RESPValue {
            #expect(try client.command("WATCH", key) == .simpleString("OK"))
            try await invalidate()
            #expect(try client.command("MULTI") == .simpleString("OK"))
            #expect(try client.command("GET", key) == .simpleString("QUEUED"))
            return try client.command("EXEC")
        }

        let untouched = try await transaction(watching: "user:7") {}
        guard case .array(let values) = untouched, values.count == 1 else {
            Issue.record("EXEC without invalidation: \(untouched)")
            return
        }
        #expect(values[0].text?.contains("grace") == true)

        // Cached first: the fresh value then shows only once the invalidation has arrived.
        #expect(try watcher.command("GET", "user:5").string?.contains("erin") == true)
        let afterWrite = try await transaction(watching: "user:5") {
            try harness.database.connect().execute("UPDATE users SET username = 'erin-2' WHERE id = 5")
            #expect(try await eventually(seconds: 10) { try watcher.command("GET", "user:5").string?.contains("erin-2") == true })
        }
        #expect(afterWrite == aborted)
        let afterDel = try await transaction(watching: "user:5") { _ = try watcher.command("DEL", "user:5") }
        #expect(afterDel == aborted)
        let afterFamilyFlush = try await transaction(watching: "user:5") {
            _ = try watcher.command("QUICKSELL", "FLUSHFAMILY", "user")
        }
        #expect(afterFamilyFlush == aborted)
        let afterFlushAll = try await transaction(watching: "listing:10") { _ = try watcher.command("QUICKSELL", "FLUSHALL") }
        #expect(afterFlushAll == aborted)
        // UNWATCH forgets: an invalidation after it does not abort.
        #expect(try client.command("WATCH", "user:5") == .simpleString("OK"))
        #expect(try client.command("UNWATCH") == .simpleString("OK"))
        _ = try watcher.command("DEL", "user:5")
        #expect(try client.command("MULTI") == .simpleString("OK"))
        #expect(try client.command("PING") == .simpleString("QUEUED"))
        #expect(try client.command("EXEC") == .array([.simpleString("PONG")]))
    }

    static func encode(_ arguments: [String]) -> String {
        "*\(arguments.count)\r\n" + arguments.map { "$\($0.utf8.count)\r\n\($0)\r\n" }.joined()
    }
}
