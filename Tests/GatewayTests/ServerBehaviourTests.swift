import Foundation
@testable import Gateway
import NIOCore
import RESP
import Testing

/// The gateway's own server behaviour: ordering, limits, timeouts, authentication,
/// connection commands and counters, with Redis 7's exact wording.
@Suite(.timeLimit(.minutes(1)))
struct ServerBehaviourTests {
    @Test func pipelinedBatchIsAnsweredInRequestOrder() async throws {
        try await withGateway { server in
            let client = try RawClient(port: server.localPort)
            var batch = ""
            for index in 0..<2_000 {
                batch += index % 3 == 0 ? "*1\r\n$4\r\nPING\r\n" : "*2\r\n$4\r\nECHO\r\n$\(String(index).count + 2)\r\nm-\(index)\r\n"
            }
            batch += "ECHO inline-last\r\n"  // an inline request at the end of the same batch
            try client.send(batch)
            for index in 0..<2_000 {
                let reply = try client.readReply()
                #expect(reply == (index % 3 == 0 ? .simpleString("PONG") : .bulkString("m-\(index)")), "reply \(index)")
            }
            #expect(try client.readReply() == .bulkString("inline-last"))
        }
    }

    @Test func maxClientsRejectsTheThirdClientAndAdmitsAnotherAfterADisconnect() async throws {
        try await withGateway(maxClients: 2) { server in
            var first: RawClient? = try RawClient(port: server.localPort)
            let second = try RawClient(port: server.localPort)
            #expect(try first?.command("PING") == .simpleString("PONG"))
            #expect(try second.command("PING") == .simpleString("PONG"))

            let third = try RawClient(port: server.localPort)
            let rejected = third.readUntilClosed()
            #expect(String(decoding: rejected.bytes, as: UTF8.self) == "-ERR max number of clients reached\r\n")
            #expect(rejected.closed)
            #expect(server.stats.totalRejectedConnections == 1)

            first = nil  // closes the socket
            #expect(await eventually { server.registry.count == 1 })
            let fourth = try RawClient(port: server.localPort)
            #expect(try fourth.command("PING") == .simpleString("PONG"))
            #expect(try second.command("PING") == .simpleString("PONG"))
            let info = try second.command("INFO", "stats").text ?? ""
            #expect(info.contains("rejected_connections:1\r\n"))
        }
    }

    @Test func idleTimeoutOfOneSecondClosesAnIdleClient() async throws {
        try await withGateway(idleTimeoutSeconds: 1) { server in
            let client = try RawClient(port: server.localPort)
            #expect(try client.command("PING") == .simpleString("PONG"))
            let start = ContinuousClock.now
            #expect(await eventually(timeout: .seconds(10)) { client.peerClosed })
            #expect(ContinuousClock.now - start >= .milliseconds(800))
            #expect(await eventually { server.registry.count == 0 })
        }
    }

    /// Slowloris: 200 connections trickling one byte of a GET every 300 ms are closed by the
    /// request deadline, while a client pipelining whole requests without pause and a plain
    /// client keep being served.
    @Test func trickledRequestsAreClosedByTheRequestDeadlineAndOthersAreUnaffected() async throws {
        try await withGateway(requestTimeoutSeconds: 1) { server in
            let request = Array("*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n".utf8)
            let trickling = try (0..<200).map { _ in try RawClient(port: server.localPort) }
            let pipeliner = try RawClient(port: server.localPort)
            let plain = try RawClient(port: server.localPort)
            let started = ContinuousClock.now
            var sent = 0
            while ContinuousClock.now - started < .seconds(2.5) {
                for client in trickling where sent < request.count - 1 { try? client.send([request[sent]]) }
                sent += 1
                // Whole requests split across writes: the read ends mid-request every time.
                try pipeliner.send(request + request[..<7])
                try pipeliner.send(Array(request[7...]))
                #expect(try plain.command("PING") == .simpleString("PONG"))
                try await Task.sleep(for: .milliseconds(300))
            }
            let stillOpen = trickling.filter { !$0.peerClosed }.count
            #expect(stillOpen == 0, "\(stillOpen) trickling connections open")
            #expect(!pipeliner.peerClosed, "a client sending whole requests was cut")
            #expect(try plain.command("INFO", "stats").text?.contains("request_timeouts:200\r\n") == true)
        }
    }

    /// The decoder consumes a request's header and each whole argument as they arrive, so the
    /// bytes left over are often none; the deadline still runs until the request's last
    /// argument (an argument every 600 ms used to restart it, holding a connection for good).
    @Test func aRequestArrivingOneArgumentAtATimeIsClosedByTheRequestDeadline() async throws {
        try await withGateway(requestTimeoutSeconds: 1) { server in
            let client = try RawClient(port: server.localPort)
            let started = ContinuousClock.now
            try client.send("*1000\r\n")
            while !client.peerClosed && ContinuousClock.now - started < .seconds(4) {
                try? client.send("$1\r\nx\r\n")
                try await Task.sleep(for: .milliseconds(600))
            }
            let open = ContinuousClock.now - started
            #expect(client.peerClosed && open < .seconds(2), "still open after \(open)")
            #expect(try RawClient(port: server.localPort).command("INFO", "stats").text?.contains("request_timeouts:1\r\n") == true)
        }
    }

    @Test func idleTimeoutZeroNeverClosesAClient() async throws {
        try await withGateway(idleTimeoutSeconds: 0) { server in
            let client = try RawClient(port: server.localPort)
            #expect(try client.command("PING") == .simpleString("PONG"))
            try await Task.sleep(for: .milliseconds(1_500))
            #expect(!client.peerClosed)
            #expect(try client.command("PING") == .simpleString("PONG"))
        }
    }

    @Test func repeatedWrongPasswordsAreCountedLoggedInAggregateAndCutOff() async throws {
        let log = CapturedLog()
        try await withGateway(users: UserDirectory(requirePass: "s3cret"), logger: log.logger()) { server in
            let guesser = try RawClient(port: server.localPort)
            // 1,000 guesses pipelined without reading; the server closes after the tenth.
            for guess in 0..<1_000 {
                do { try guesser.sendCommand(["AUTH", "guess-\(guess)"]) } catch { break }
            }
            let (bytes, closed) = guesser.readUntilClosed()
            #expect(closed, "the guessing connection stayed open")
            let answers = String(decoding: bytes, as: UTF8.self).components(separatedBy: "-WRONGPASS").count - 1
            #expect(answers == AuthFailures.perConnectionLimit)

            let client = try RawClient(port: server.localPort)
            #expect(try client.command("HELLO", "3", "AUTH", "default", "nope")
                    == .error("WRONGPASS invalid username-password pair or user is disabled."))
            #expect(try client.command("AUTH", "s3cret") == .simpleString("OK"))
            let info = try client.command("INFO", "stats").text ?? ""
            #expect(info.contains("acl_access_denied_auth:\(AuthFailures.perConnectionLimit + 1)\r\n"), "\(info)")
            let reports = log.messages.filter { $0 == "failed AUTH attempts" }
            #expect(reports.count == 1, "one aggregate line per 10 s, got \(reports.count)")
            #expect(log.messages.contains("closing a connection after repeated failed AUTH attempts"))
            #expect(!log.messages.contains { $0.contains("guess-") || $0.contains("nope") })
        }
    }

    @Test func requirePassGatesEveryCommandButTheHandshakeOnes() async throws {
        try await withGateway(users: UserDirectory(requirePass: "s3cret")) { server in
            let client = try RawClient(port: server.localPort)
            let noAuth = RESPValue.error("NOAUTH Authentication required.")
            for command in [["PING"], ["ECHO", "x"], ["CLIENT", "ID"], ["CLIENT", "SETNAME", "a"], ["INFO"], ["TIME"],
                            ["SELECT", "0"], ["COMMAND", "COUNT"], ["CONFIG", "GET", "maxclients"]] {
                try client.sendCommand(command)
                #expect(try client.readReply() == noAuth, "\(command)")
            }
            // Redis checks existence and arity before authentication.
            #expect(try client.command("NOSUCH").text?.hasPrefix("ERR unknown command 'NOSUCH'") == true)
            #expect(try client.command("ECHO") == .error("ERR wrong number of arguments for 'echo' command"))
            // HELLO without AUTH is refused, RESET is allowed and keeps the client unauthenticated.
            #expect(try client.command("HELLO", "3").text?.hasPrefix("NOAUTH HELLO must be called") == true)
            #expect(try client.command("RESET") == .simpleString("RESET"))
            #expect(try client.command("PING") == noAuth)

            #expect(try client.command("AUTH", "wrong") == .error("WRONGPASS invalid username-password pair or user is disabled."))
            #expect(try client.command("AUTH", "default", "wrong") == .error("WRONGPASS invalid username-password pair or user is disabled."))
            #expect(try client.command("PING") == noAuth)
            #expect(try client.command("AUTH", "s3cret") == .simpleString("OK"))
            #expect(try client.command("PING") == .simpleString("PONG"))
            // RESET drops the authentication again.
            #expect(try client.command("RESET") == .simpleString("RESET"))
            #expect(try client.command("PING") == noAuth)
            #expect(try client.command("AUTH", "default", "s3cret") == .simpleString("OK"))
            #expect(try client.command("PING") == .simpleString("PONG"))

            // QUIT works unauthenticated.
            let other = try RawClient(port: server.localPort)
            #expect(try other.command("QUIT") == .simpleString("OK"))
            #expect(other.readUntilClosed().closed)
        }
    }

    @Test func helloAuthenticatesANamedUser() async throws {
        try await withGateway(users: UserDirectory(passwords: ["alice": "pw-alice"])) { server in
            let client = try RawClient(port: server.localPort)
            #expect(try client.command("PING") == .error("NOAUTH Authentication required."))
            #expect(try client.command("HELLO", "3", "AUTH", "alice", "nope")
                == .error("WRONGPASS invalid username-password pair or user is disabled."))
            let hello = try client.command("HELLO", "3", "AUTH", "alice", "pw-alice", "SETNAME", "api-1")
            guard case .map(let pairs) = hello else {
                Issue.record("HELLO 3 should answer a RESP3 map, got \(hello)")
                return
            }
            #expect(pairs.contains(RESPPair(key: .bulkString("proto"), value: .integer(3))))
            #expect(pairs.contains(RESPPair(key: .bulkString("server"), value: .bulkString("redis"))))
            #expect(try client.command("PING") == .simpleString("PONG"))
            #expect(try client.command("CLIENT", "GETNAME") == .bulkString("api-1"))
            let info = try client.command("CLIENT", "INFO").text ?? ""
            #expect(info.contains(" user=alice "))
            #expect(info.contains(" resp=3 "))
            #expect(info.contains(" name=api-1 "))
            // The default user has no password here: AUTH <password> gets Redis's hint.
            #expect(try client.command("AUTH", "pw-alice").text?.hasPrefix(
                "ERR AUTH <password> called without any password configured for the default user") == true)
        }
    }

    @Test func authWithoutAConfiguredPasswordMatchesRedis() async throws {
        let redisPort = try await referenceRedisPort()
        try await withGateway { server in
            let gateway = try RawClient(port: server.localPort)
            let redis = try RawClient(port: redisPort)
            for command in [["AUTH", "foo"], ["AUTH", "someone", "foo"], ["AUTH", "a", "b", "c"]] {
                try gateway.sendCommand(command)
                try redis.sendCommand(command)
                let expected = try redis.readReply()
                #expect(try gateway.readReply() == expected, "\(command)")
            }
            #expect(try gateway.command("AUTH", "foo")
                == .error("ERR AUTH <password> called without any password configured for the default user. "
                    + "Are you sure your configuration is correct?"))
        }
    }

    @Test func quitRepliesOKAndClosesAfterEarlierReplies() async throws {
        try await withGateway { server in
            let client = try RawClient(port: server.localPort)
            try client.send("PING\r\nECHO before\r\nQUIT\r\nECHO after\r\n")
            let rest = client.readUntilClosed()
            #expect(String(decoding: rest.bytes, as: UTF8.self) == "+PONG\r\n$6\r\nbefore\r\n+OK\r\n")
            #expect(rest.closed)
            #expect(await eventually { server.registry.count == 0 })
        }
    }

    @Test func resetReturnsToAFreshConnection() async throws {
        try await withGateway { server in
            let client = try RawClient(port: server.localPort)
            _ = try client.command("HELLO", "3", "SETNAME", "before-reset")
            #expect(try client.command("CLIENT", "GETNAME") == .bulkString("before-reset"))
            #expect(try client.command("RESET") == .simpleString("RESET"))
            #expect(try client.command("CLIENT", "GETNAME") == .nullBulkString)  // RESP2 null again
            let info = try client.command("CLIENT", "INFO").text ?? ""
            #expect(info.contains(" resp=2 "))
        }
    }

    @Test func selectAcceptsOnlyDatabaseZero() async throws {
        try await withGateway { server in
            let client = try RawClient(port: server.localPort)
            #expect(try client.command("SELECT", "0") == .simpleString("OK"))
            #expect(try client.command("SELECT", "1") == .error("ERR DB index is out of range"))
            #expect(try client.command("SELECT", "x") == .error("ERR value is not an integer or out of range"))
        }
    }

    /// The same inputs to the gateway and to a real Redis 7: identical error replies.
    @Test func errorRepliesAreWordedAsRedisWordsThem() async throws {
        let redisPort = try await referenceRedisPort()
        let inputs = [
            "FOO\r\n",
            "foo a b\r\n",
            "*3\r\n$7\r\nNOSUCH!\r\n$1\r\na\r\n$2\r\nbc\r\n",
            "$x\r\n",  // not RESP: an inline command named '$x', as Redis reads it
            "ECHO\r\n",
            "ECHO a b\r\n",
            "PING a b\r\n",
            "CLIENT\r\n",
            "CLIENT NOSUCH\r\n",
            "CLIENT SETNAME\r\n",
            "CLIENT SETNAME \"a b\"\r\n",
            "CLIENT GETNAME extra\r\n",
            "COMMAND NOSUCH\r\n",
            "COMMAND COUNT extra\r\n",
            "HELLO 4\r\n",
            "HELLO x\r\n",
            "HELLO 3 SETNAME\r\n",
            "SELECT x\r\n",
            "SELECT\r\n",
            "TIME now\r\n",
            "CONFIG\r\n",
            "CONFIG GET\r\n",
        ]
        try await withGateway { server in
            let gateway = try RawClient(port: server.localPort)
            let redis = try RawClient(port: redisPort)
            for input in inputs {
                try gateway.send(input)
                try redis.send(input)
                let expected = try redis.readReply()
                let actual = try gateway.readReply()
                #expect(actual == expected, "input \(input.debugDescription)")
                guard case .error = actual else {
                    Issue.record("expected an error reply for \(input.debugDescription), got \(actual)")
                    continue
                }
            }
        }
    }

    @Test func clientSetinfoShowsInClientList() async throws {
        try await withGateway { server in
            let client = try RawClient(port: server.localPort)
            let other = try RawClient(port: server.localPort)
            #expect(try client.command("CLIENT", "SETINFO", "LIB-NAME", "quicksell-api") == .simpleString("OK"))
            #expect(try client.command("CLIENT", "SETINFO", "lib-ver", "1.2.3") == .simpleString("OK"))
            #expect(try client.command("CLIENT", "SETNAME", "api") == .simpleString("OK"))
            #expect(try client.command("CLIENT", "SETINFO", "lib-name", "bad name")
                == .error("ERR lib-name and lib-ver cannot contain spaces, newlines or special characters."))
            let id = try client.command("CLIENT", "ID")
            guard case .integer(let clientID) = id else {
                Issue.record("CLIENT ID should be an integer, got \(id)")
                return
            }
            let list = try other.command("CLIENT", "LIST").text ?? ""
            let lines = list.split(separator: "\n")
            #expect(lines.count == 2)
            let line = lines.first { $0.hasPrefix("id=\(clientID) ") }.map(String.init) ?? ""
            #expect(line.contains(" name=api "))
            #expect(line.contains(" lib-name=quicksell-api "))
            #expect(line.hasSuffix(" lib-ver=1.2.3"))
            #expect(line.contains(" cmd=client|id "), "Redis shows the subcommand's full name: \(line)")
            let filtered = try other.command("CLIENT", "LIST", "ID", String(clientID)).text ?? ""
            #expect(filtered.split(separator: "\n").count == 1)
            #expect(filtered.hasPrefix("id=\(clientID) "))
        }
    }

    @Test func infoCountersMove() async throws {
        try await withGateway(maxClients: 3) { server in
            let client = try RawClient(port: server.localPort)
            func stat(_ name: String) throws -> Int {
                let text = try client.command("INFO").text ?? ""
                for line in text.split(separator: "\r\n") where line.hasPrefix("\(name):") {
                    return Int(line.dropFirst(name.count + 1)) ?? -1
                }
                throw TestFailure("INFO has no \(name)")
            }
            let before = try stat("total_commands_processed")
            for _ in 0..<10 { _ = try client.command("PING") }
            let after = try stat("total_commands_processed")
            #expect(after == before + 11)  // ten PINGs and the INFO itself
            #expect(try stat("connected_clients") == 1)

            // As in Redis: refused commands (unknown, wrong arity) are error replies but not
            // processed commands; a command that runs and answers an error is both.
            let errorsBefore = try stat("total_error_replies")
            let processedBefore = try stat("total_commands_processed")
            #expect(try client.command("NOSUCH").text?.hasPrefix("ERR unknown command") == true)
            #expect(try client.command("ECHO", "a", "b").text?.hasPrefix("ERR wrong number") == true)
            #expect(try client.command("SELECT", "x") == .error("ERR value is not an integer or out of range"))
            #expect(try stat("total_error_replies") == errorsBefore + 3)
            #expect(try stat("total_commands_processed") == processedBefore + 3)  // SELECT and two INFOs

            let second = try RawClient(port: server.localPort)
            let third = try RawClient(port: server.localPort)
            #expect(try second.command("PING") == .simpleString("PONG"))
            #expect(try third.command("PING") == .simpleString("PONG"))
            #expect(try stat("connected_clients") == 3)
            let rejectedBefore = try stat("rejected_connections")
            let fourth = try RawClient(port: server.localPort)
            #expect(fourth.readUntilClosed().closed)
            #expect(try stat("rejected_connections") == rejectedBefore + 1)
            #expect(try stat("total_connections_received") == 3)  // as Redis: the rejected one is not counted
        }
    }

    @Test func commandWithoutSubcommandListsEveryCommand() async throws {
        try await withGateway { server in
            let client = try RawClient(port: server.localPort)
            let all = try client.command("COMMAND")
            let count = try client.command("COMMAND", "COUNT")
            guard case .array(let entries) = all, case .integer(let total) = count else {
                Issue.record("COMMAND: \(all), COMMAND COUNT: \(count)")
                return
            }
            #expect(entries.count == Int(total))
            #expect(try client.command("CLIENT", "INFO").text?.contains(" cmd=client|info ") == true)
            #expect(try client.command("PING") == .simpleString("PONG"))
        }
    }
}
