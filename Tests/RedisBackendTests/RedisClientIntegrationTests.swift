import Foundation
import NIOCore
import NIOPosix
import RESP
import RedisBackend
import Testing

/// Against the real Redis of `make test` (QUICKSELL_TEST_REDIS_URL). Every wait is bounded by
/// the client's own connect and command timeouts, and the suite by a time limit.
@Suite(.timeLimit(.minutes(1)))
struct RedisClientIntegrationTests {
    @Test func setGetPttlDelRoundTrip() async throws {
        let key = uniquePrefix("roundtrip") + ":k"
        try await withClient(try testConfiguration(), loops: 1) { client, group in
            let loop = group.next()
            let set = try await client.send(["SET", key, "hello", "PX", "60000"], on: loop).get()
            #expect(set == .simpleString("OK"))
            let get = try await client.send([ByteBuffer(string: "GET"), ByteBuffer(string: key)], on: loop).get()
            #expect(get == .bulkString("hello"))
            guard case .integer(let ttl) = try await client.send(["PTTL", key], on: loop).get() else {
                Issue.record("PTTL must answer an integer")
                return
            }
            #expect(ttl > 0 && ttl <= 60_000)
            #expect(try await client.send(["DEL", key], on: loop).get() == .integer(1))
            #expect(try await client.send(["GET", key], on: loop).get() == .nullBulkString)
            #expect(client.isConnected(on: loop))
        }
    }

    @Test func tenThousandPipelinedCommandsFromSeveralLoopsComeBackInOrder() async throws {
        let prefix = uniquePrefix("pipeline")
        let loops = 4
        let perLoop = 2_500
        try await withClient(try testConfiguration(), loops: loops) { client, group in
            let allLoops = Array(group.makeIterator())
            let batches = allLoops.enumerated().map { index, loop in
                // Issued on the loop itself: the hot path, all written in one flush.
                loop.flatSubmit { () -> EventLoopFuture<[Bool]> in
                    let counter = "\(prefix):counter:\(index)"
                    let futures = (0..<perLoop).map { i -> EventLoopFuture<Bool> in
                        let expected: RESPValue
                        let sent: EventLoopFuture<RESPValue>
                        if i.isMultiple(of: 2) {
                            sent = client.send(["INCR", counter], on: loop)
                            expected = .integer(Int64(i / 2 + 1))
                        } else {
                            sent = client.send(["ECHO", "loop\(index)-\(i)"], on: loop)
                            expected = .bulkString("loop\(index)-\(i)")
                        }
                        return sent.map { reply in reply == expected && loop.inEventLoop }
                    }
                    return EventLoopFuture.whenAllSucceed(futures, on: loop)
                }
            }
            var answered = 0
            for batch in batches {
                let results = try await batch.get()
                answered += results.count
                #expect(results.allSatisfy { $0 }, "every reply must match its command and complete on the loop")
            }
            #expect(answered == loops * perLoop)
            let keys = (0..<loops).map { "\(prefix):counter:\($0)" }
            #expect(try await client.send(["DEL"] + keys, on: group.next()).get() == .integer(Int64(loops)))
        }
    }

    @Test func sendFromAnotherThreadOrGroupCompletesOnTheCallersLoop() async throws {
        let other = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        try await withClient(try testConfiguration(), loops: 2) { client, group in
            let foreign = other.next()
            let onForeign = try await client.send(["PING"], on: foreign).map { ($0, foreign.inEventLoop) }.get()
            #expect(onForeign.0 == .simpleString("PONG") && onForeign.1)
            let loop = group.next()
            let fromTask = try await client.send(["ECHO", "x"], on: loop).map { ($0, loop.inEventLoop) }.get()
            #expect(fromTask.0 == .bulkString("x") && fromTask.1)
        }
        try await other.shutdownGracefully()
    }

    @Test func redisErrorReplyIsASuccessfulErrorValue() async throws {
        let key = uniquePrefix("error") + ":k"
        try await withClient(try testConfiguration(), loops: 1) { client, group in
            let loop = group.next()
            let unknown = try await client.send(["NOSUCHCOMMAND", "x"], on: loop).get()
            guard case .error = unknown else {
                Issue.record("expected an error reply, got \(unknown)")
                return
            }
            #expect(unknown.text?.hasPrefix("ERR unknown command") == true)
            _ = try await client.send(["SET", key, "not a number"], on: loop).get()
            let incr = try await client.send(["INCR", key], on: loop).get()
            #expect(incr.text?.hasPrefix("ERR value is not an integer") == true)
            _ = try await client.send(["DEL", key], on: loop).get()
            // The connection is still in step.
            #expect(try await client.send(["PING"], on: loop).get() == .simpleString("PONG"))
        }
    }

    @Test func emptyCommandIsRefused() async throws {
        try await withClient(try testConfiguration(), loops: 1) { client, group in
            await #expect(throws: RedisClientError.emptyCommand) {
                try await client.send([String](), on: group.next()).get()
            }
        }
    }

    @Test func closedPortFailsWithConnectionFailedNamingTheAddress() async throws {
        let configuration = RedisClientConfiguration(host: "127.0.0.1", port: 1, connectTimeout: .milliseconds(500))
        try await withClient(configuration, loops: 2) { client, group in
            do {
                try await client.connectAll()
                Issue.record("connected to a closed port")
            } catch let error as RedisClientError {
                guard case .connectionFailed(let address, _) = error else {
                    Issue.record("expected connectionFailed, got \(error)")
                    return
                }
                #expect(address == "127.0.0.1:1")
                #expect("\(error)".hasPrefix("cannot connect to Redis at 127.0.0.1:1: "))
            }
            #expect(!client.isConnected(on: group.next()))
            // During the backoff a send fails fast instead of queueing.
            do {
                _ = try await client.send(["PING"], on: group.next()).get()
                Issue.record("a send succeeded without a server")
            } catch let error as RedisClientError {
                guard case .connectionFailed(let address, _) = error else {
                    Issue.record("expected connectionFailed, got \(error)")
                    return
                }
                #expect(address == "127.0.0.1:1")
            }
        }
    }

    @Test func commandTimeoutResetsTheConnectionAndTheNextCommandWorks() async throws {
        let key = uniquePrefix("timeout") + ":list"
        let configuration = try testConfiguration { $0.commandTimeout = .milliseconds(100) }
        try await withClient(configuration, loops: 1) { client, group in
            let loop = group.next()
            try await client.connectAll()
            let started = ContinuousClock.now
            // BLPOP on an empty list holds the reply back for 10 s: far past the 100 ms timeout.
            await #expect(throws: RedisClientError.timeout(address: configuration.address, after: .milliseconds(100))) {
                try await client.send(["BLPOP", key, "10"], on: loop).get()
            }
            let waited = ContinuousClock.now - started
            #expect(waited < .seconds(3), "the timeout fired after \(waited)")
            #expect(try await client.send(["PING"], on: loop).get() == .simpleString("PONG"))
            #expect(client.isConnected(on: loop))
        }
    }

    @Test func hungServerTimesOutTheHandshakeAndTheCommands() async throws {
        let listener = try await SilentListener()
        var configuration = RedisClientConfiguration(host: "127.0.0.1", port: listener.port)
        configuration.commandTimeout = .milliseconds(100)
        try await withClient(configuration, loops: 1) { client, group in
            let started = ContinuousClock.now
            // CLIENT SETNAME is never answered: the handshake times out.
            await #expect(throws: RedisClientError.timeout(address: configuration.address, after: .milliseconds(100))) {
                try await client.connectAll()
            }
            #expect(ContinuousClock.now - started < .seconds(3), "the server never answers: only the timeout ends it")
            #expect(!client.isConnected(on: group.next()))
        }
        configuration.clientName = nil
        try await withClient(configuration, loops: 1) { client, group in
            // No handshake: the connection is ready, the command itself times out.
            try await client.connectAll()
            await #expect(throws: RedisClientError.timeout(address: configuration.address, after: .milliseconds(100))) {
                try await client.send(["GET", "rbtest:never"], on: group.next()).get()
            }
        }
        try await listener.stop()
    }

    @Test func killedConnectionFailsPendingAndTheNextSendReconnects() async throws {
        let key = uniquePrefix("kill") + ":list"
        let configuration = try testConfiguration { $0.commandTimeout = .seconds(10) }
        try await withClient(configuration, loops: 2) { client, group in
            let loops = Array(group.makeIterator())
            let (victim, killer) = (loops[0], loops[1])
            try await client.connectAll()
            guard case .integer(let id) = try await client.send(["CLIENT", "ID"], on: victim).get() else {
                Issue.record("CLIENT ID must answer an integer")
                return
            }
            #expect(try await client.send(["CLIENT", "GETNAME"], on: victim).get() == .bulkString("quicksell-gateway"))
            let blocked = client.send(["BLPOP", key, "5"], on: victim)
            try await Task.sleep(for: .milliseconds(200))
            #expect(try await client.send(["CLIENT", "KILL", "ID", "\(id)"], on: killer).get() == .integer(1))
            await #expect(throws: RedisClientError.connectionClosed(address: configuration.address)) {
                try await blocked.get()
            }
            guard case .integer(let newID) = try await client.send(["CLIENT", "ID"], on: victim).get() else {
                Issue.record("the next send must reconnect and succeed")
                return
            }
            #expect(newID != id)
        }
    }

    @Test func shutdownFailsLaterSends() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let client = RedisClient(configuration: try testConfiguration(), group: group)
        let loop = group.next()
        #expect(try await client.send(["PING"], on: loop).get() == .simpleString("PONG"))
        await client.shutdown()
        #expect(!client.isConnected(on: loop))
        await #expect(throws: RedisClientError.shutDown) {
            try await client.send(["PING"], on: loop).get()
        }
        try await group.shutdownGracefully()
    }

    @Test func authenticationAgainstAPasswordProtectedRedis() async throws {
        let server = try await PrivateRedisServer(password: "secret")
        defer { server.stop() }
        let base = RedisClientConfiguration(host: "127.0.0.1", port: server.port)

        // Wrong password: authenticationFailed with Redis's own message.
        var wrong = base
        wrong.password = "not-the-password"
        try await withClient(wrong, loops: 1) { client, group in
            do {
                try await client.connectAll()
                Issue.record("a wrong password was accepted")
            } catch let error as RedisClientError {
                guard case .authenticationFailed(let address, let reason) = error else {
                    Issue.record("expected authenticationFailed, got \(error)")
                    return
                }
                #expect(address == base.address)
                #expect(reason.hasPrefix("WRONGPASS"))
            }
            #expect(!client.isConnected(on: group.next()))
        }

        // No password: connects, but Redis refuses commands.
        try await withClient(base, loops: 1) { client, group in
            let reply = try await client.send(["PING"], on: group.next()).get()
            #expect(reply.text?.hasPrefix("NOAUTH") == true)
        }

        // Right password, with and without a user name.
        for username in [nil, "default"] as [String?] {
            var right = base
            right.username = username
            right.password = "secret"
            try await withClient(right, loops: 2) { client, group in
                try await client.connectAll()
                #expect(client.isFullyConnected)
                #expect(try await client.send(["PING"], on: group.next()).get() == .simpleString("PONG"))
            }
        }
    }
}
