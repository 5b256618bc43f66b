import Foundation
import Gateway
import HiredisClient
import Testing

/// Real clients nobody here wrote, against the running gateway.
@Suite(.timeLimit(.minutes(2)))
struct RedisCLITests {
    /// Commands whose redis-cli output must be identical on the gateway and on Redis 7.
    @Test func outputMatchesRedisForTheSameCommands() async throws {
        let redisPort = try await referenceRedisPort()
        let commands: [[String]] = [
            ["PING"],
            ["PING", "hello"],
            ["ECHO", "hi"],
            ["CLIENT", "GETNAME"],
            ["SELECT", "0"],
            ["COMMAND", "INFO", "nosuchcommand"],
            ["NOSUCH", "a", "b"],
            ["ECHO"],
            ["CLIENT", "SETNAME", "a b"],
            ["HELLO", "4"],
        ]
        try await withGateway { server in
            for command in commands {
                let expected = try await redisCLI(port: redisPort, command)
                let actual = try await redisCLI(port: server.localPort, command)
                #expect(actual == expected, "redis-cli \(command.joined(separator: " "))")
            }
        }
    }

    @Test func noRawShapes() async throws {
        try await withGateway { server in
            let port = server.localPort
            #expect(try await redisCLI(port: port, ["ECHO", "hi"]) == "\"hi\"\n")
            #expect(try await redisCLI(port: port, ["ECHO", "hi"], noRaw: false) == "hi\n")
            #expect(try await redisCLI(port: port, ["CLIENT", "GETNAME"]) == "(nil)\n")
            #expect(try await redisCLI(port: port, ["SELECT", "1"]) == "(error) ERR DB index is out of range\n")
            #expect(try await redisCLI(port: port, ["NOSUCH"]) == "(error) ERR unknown command 'NOSUCH', with args beginning with: \n")
            #expect(try await redisCLI(port: port, ["ECHO", "a", "b"]) == "(error) ERR wrong number of arguments for 'echo' command\n")
            #expect(try await redisCLI(port: port, ["CLIENT", "ID"]).wholeMatch(of: /\(integer\) [1-9][0-9]*\n/) != nil)
            let count = try await redisCLI(port: port, ["COMMAND", "COUNT"])
            #expect(count.wholeMatch(of: /\(integer\) [1-9][0-9]*\n/) != nil, "\(count)")
            let time = try await redisCLI(port: port, ["TIME"])
            #expect(time.wholeMatch(of: /1\) "[0-9]{10,}"\n2\) "[0-9]{1,6}"\n/) != nil, "\(time)")
        }
    }

    @Test func oneSessionOfClientCommands() async throws {
        try await withGateway { server in
            // Commands on stdin run one after another on one connection.
            let script = "CLIENT SETNAME cli-1\nCLIENT GETNAME\nCLIENT SETINFO LIB-NAME cli-lib\nCLIENT INFO\nCLIENT LIST\n"
            let result = try await runProcess(
                "/usr/bin/redis-cli", ["-h", "127.0.0.1", "-p", String(server.localPort)], input: script, timeout: .seconds(10))
            #expect(result.status == 0)
            let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            #expect(lines.count >= 5, "\(result.stdout)")
            guard lines.count >= 5 else { return }
            #expect(lines[0] == "OK")
            #expect(lines[1] == "cli-1")
            #expect(lines[2] == "OK")
            #expect(lines[3].hasPrefix("id="))
            #expect(lines[3].contains(" name=cli-1 "))
            #expect(lines[3].contains(" lib-name=cli-lib "))
            #expect(lines[3].contains(" cmd=client"))
            #expect(lines[4].hasPrefix("id="))
            #expect(lines[4].contains(" laddr=127.0.0.1:\(server.localPort) "))
        }
    }

    /// redis-cli's mass-insertion mode: 20,000 pipelined commands written while replies are read.
    @Test func pipeModeCountsEveryReply() async throws {
        try await withGateway { server in
            var input = ""
            for index in 0..<20_000 { input += index % 2 == 0 ? "PING\r\n" : "ECHO pipe-\(index)\r\n" }
            input += "NOSUCH\r\n"
            let result = try await runProcess(
                "/usr/bin/redis-cli", ["-h", "127.0.0.1", "-p", String(server.localPort), "--pipe"], input: input, timeout: .seconds(30))
            #expect(!result.timedOut)
            #expect(result.stdout.contains("errors: 1, replies: 20001"), "\(result.stdout)\(result.stderr)")
            #expect(result.stderr.contains("ERR unknown command 'NOSUCH'"), "\(result.stderr)")
        }
    }

    @Test func hello3AndIntrospection() async throws {
        let redisPort = try await referenceRedisPort()
        try await withGateway { server in
            let port = server.localPort
            let hello = try await redisCLI(port: port, ["HELLO", "3"], extra: ["-3"])
            #expect(hello.contains("1# \"server\" => \"redis\"\n"), "\(hello)")
            #expect(hello.contains("3# \"proto\" => (integer) 3\n"), "\(hello)")
            #expect(hello.contains("\"mode\" => \"standalone\"\n"))
            // RESP2 HELLO 2: a flat array as in Redis.
            let hello2 = try await redisCLI(port: port, ["HELLO", "2"])
            #expect(hello2.hasPrefix(" 1) \"server\"\n 2) \"redis\"\n 3) \"version\"\n"), "\(hello2)")

            // COMMAND INFO: the same first fields as Redis (name, arity, flags, key positions).
            let info = try await redisCLI(port: port, ["COMMAND", "INFO", "ping"])
            let redisInfo = try await redisCLI(port: redisPort, ["COMMAND", "INFO", "ping"])
            let head = { (text: String) in text.split(separator: "\n").prefix(6).joined(separator: "\n") }
            #expect(head(info) == head(redisInfo), "\(info)")
            let docs = try await redisCLI(port: port, ["COMMAND", "DOCS", "echo"])
            #expect(docs.hasPrefix("1) \"echo\"\n"), "\(docs)")
            #expect(docs.contains("\"summary\""))
            #expect(docs.contains("\"group\"\n") && docs.contains("\"connection\""))

            let server = try await redisCLI(port: port, ["INFO", "server"], noRaw: false)
            #expect(server.hasPrefix("# Server\r\n"))
            #expect(server.contains("redis_version:"))
            #expect(server.contains("tcp_port:\(port)\r\n"))
            let clients = try await redisCLI(port: port, ["INFO", "clients"], noRaw: false)
            #expect(clients.hasPrefix("# Clients\r\n"))
            #expect(clients.contains("connected_clients:1\r\n"))
            let stats = try await redisCLI(port: port, ["INFO", "stats"], noRaw: false)
            #expect(stats.hasPrefix("# Stats\r\n"))
            #expect(stats.contains("total_commands_processed:"))
            #expect(!stats.contains("# Server"))
        }
    }
}

@Suite(.timeLimit(.minutes(2)))
struct RedisBenchmarkTests {
    @Test func pingInlineAndMultibulkComplete() async throws {
        try await withGateway { server in
            let result = try await runProcess(
                "/usr/bin/redis-benchmark",
                ["-h", "127.0.0.1", "-p", String(server.localPort), "-t", "ping_inline,ping_mbulk", "-n", "20000", "-c", "20", "-q"],
                timeout: .seconds(60))
            #expect(!result.timedOut)
            #expect(result.status == 0, "\(result.stderr)")
            // -q prints progress lines with \r; the summary lines end with "requests per second, …".
            let summaries = result.stdout.split(whereSeparator: { $0 == "\n" || $0 == "\r" })
                .filter { $0.contains("requests per second") }
            let rates = summaries.reduce(into: [String: Double]()) { rates, line in
                guard let match = line.firstMatch(of: /(PING_INLINE|PING_MBULK): ([0-9.]+) requests per second/) else { return }
                rates[String(match.1)] = Double(match.2)
            }
            #expect((rates["PING_INLINE"] ?? 0) > 0, "\(result.stdout)")
            #expect((rates["PING_MBULK"] ?? 0) > 0, "\(result.stdout)")
            #expect(!result.stdout.localizedCaseInsensitiveContains("error"))
            #expect(!result.stderr.localizedCaseInsensitiveContains("error"))
            #expect(server.stats.totalProtocolErrors == 0)
        }
    }
}

@Suite(.timeLimit(.minutes(2)))
struct RedisPyTests {
    @Test(arguments: [2, 3])
    func redisPyClient(protocolVersion: Int) async throws {
        try await withGateway { server in
            let script = RepoPaths.compatScript("redis_py_compat.py")
            #expect(FileManager.default.fileExists(atPath: script))
            let result = try await runProcess(
                "/usr/bin/env", ["python3", script, String(server.localPort), String(protocolVersion)], timeout: .seconds(60))
            #expect(!result.timedOut)
            #expect(result.status == 0, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
            #expect(result.stdout.contains("ok pipeline order\n"))
            #expect(result.stdout.hasSuffix("ALL OK\n"), "\(result.stdout)")
            #expect(!result.stdout.contains("FAIL"))
        }
    }
}

@Suite(.timeLimit(.minutes(1)))
struct HiredisTests {
    /// Runs a hiredis session on a plain thread (hiredis is blocking).
    static func withConnection<T: Sendable>(port: Int, _ body: @escaping @Sendable (HiredisConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result {
                    try body(try HiredisConnection(host: "127.0.0.1", port: port, timeoutSeconds: 5))
                })
            }
        }
    }

    @Test func synchronousCommands() async throws {
        try await withGateway { server in
            try await Self.withConnection(port: server.localPort) { connection in
                #expect(try connection.command(["PING"]) == .status("PONG"))
                #expect(try connection.command(["ECHO", "bin\u{0}ary"]) == .string("bin\u{0}ary"))
                let id = try connection.command(["CLIENT", "ID"])
                if case .integer(let value) = id { #expect(value > 0) } else { Issue.record("CLIENT ID gave \(id)") }
                #expect(try connection.command(["CLIENT", "GETNAME"]) == .null)
                let time = try connection.command(["TIME"])
                if case .array(let items) = time { #expect(items.count == 2) } else { Issue.record("TIME gave \(time)") }
                let unknown = try connection.command(["NOSUCH"])
                if case .error(let text) = unknown {
                    #expect(text.hasPrefix("ERR unknown command 'NOSUCH'"), "\(text)")
                } else {
                    Issue.record("NOSUCH gave \(unknown)")
                }
                #expect(try connection.command(["SELECT", "1"]) == .error("ERR DB index is out of range"))
            }
        }
    }

    @Test func pipelineOfAThousandAppendedCommands() async throws {
        try await withGateway { server in
            try await Self.withConnection(port: server.localPort) { connection in
                for index in 0..<1_000 {
                    try connection.append(index % 5 == 0 ? ["PING"] : ["ECHO", "hiredis-\(index)"])
                }
                for index in 0..<1_000 {
                    let reply = try connection.readReply()
                    #expect(reply == (index % 5 == 0 ? .status("PONG") : .string("hiredis-\(index)")), "reply \(index)")
                }
            }
        }
    }
}
