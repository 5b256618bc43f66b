import Foundation
import Gateway
import RESP
import Testing
import TestSupport

/// The hit path decodes a plain GET without an argument array (`RESPRequestDecoder.decodeNext`)
/// and takes Redis's reply without a closure: against real Redis and PostgreSQL, a pipelined
/// mix of GETs (hits, misses, absent rows, invalid keys, any letter case) and other commands,
/// sent in pieces, gets exactly the replies that the same commands get one at a time.
@Suite(.timeLimit(.minutes(2)))
struct PlainGetPathTests {
    static let commands: [[String]] = [
        ["GET", "user:1"], ["get", "user:2"], ["PING"], ["GeT", "user:999999"], ["MGET", "user:1", "user:3"],
        ["GET", "user:abc"], ["ECHO", "between"], ["GET", "listing:1"], ["GET", "user:1", "extra"], ["GET", "user:1"],
    ]

    private static func frame(_ arguments: [String]) -> [UInt8] {
        var out = "*\(arguments.count)\r\n"
        for argument in arguments { out += "$\(argument.utf8.count)\r\n\(argument)\r\n" }
        return Array(out.utf8)
    }

    @Test func pipelinedMixSentInPiecesGetsTheRepliesOfSingleCommands() async throws {
        let harness = try await GatewayHarness(label: "plain_get", setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        let single = try RawClient(port: harness.port)
        var expected: [RESPValue] = []
        for command in Self.commands {
            try single.sendCommand(command)
            expected.append(try single.readReply())
        }
        guard case .bulkString = expected[0], case .nullBulkString = expected[3], case .error = expected[5],
            case .error(let arity) = expected[8]
        else {
            Issue.record("unexpected single replies: \(expected)")
            return
        }
        #expect(String(buffer: arity) == "ERR wrong number of arguments for 'get' command")

        let stream = Self.commands.flatMap(Self.frame)
        // Every split point: two writes, each possibly ending inside a frame.
        for cut in stride(from: 1, to: stream.count, by: 7) {
            let client = try RawClient(port: harness.port)
            try client.send(Array(stream[..<cut]))
            try await Task.sleep(for: .milliseconds(2))
            try client.send(Array(stream[cut...]))
            var replies: [RESPValue] = []
            for _ in Self.commands { replies.append(try client.readReply()) }
            #expect(replies == expected, "split at byte \(cut)")
        }
        // One byte per write.
        let trickle = try RawClient(port: harness.port)
        for byte in stream { try trickle.send([byte]) }
        var replies: [RESPValue] = []
        for _ in Self.commands { replies.append(try trickle.readReply()) }
        #expect(replies == expected)
    }

    @Test func malformedGetFramesGetAProtocolErrorAndAreClosed() async throws {
        let harness = try await GatewayHarness(label: "plain_get_bad", setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        let inputs: [(String, String)] = [
            ("*2\r\n$3\r\nGET\r\n$6\r\nuser:1XY", "-ERR Protocol error: expected CRLF after bulk payload\r\n"),
            ("*2\r\n$3\r\nGET\r\n$-6\r\nuser:1\r\n", "-ERR Protocol error: invalid bulk length\r\n"),
            ("*2\r\n$3\r\nGET\r\n$06\r\nuser:1\r\n", "-ERR Protocol error: invalid bulk length\r\n"),
        ]
        for (input, reply) in inputs {
            let client = try RawClient(port: harness.port)
            // A good GET first, in the same write: it is answered before the error.
            try client.send(Self.frame(["GET", "user:1"]) + Array(input.utf8))
            let good = try client.readReply()
            guard case .bulkString = good else {
                Issue.record("\(input.debugDescription): the GET before the garbage gave \(good)")
                continue
            }
            let rest = client.readUntilClosed()
            #expect(String(decoding: rest.bytes, as: UTF8.self) == reply, "\(input.debugDescription)")
            #expect(rest.closed)
        }
    }
}
