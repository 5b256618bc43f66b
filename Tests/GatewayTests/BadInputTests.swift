import Foundation
import Gateway
import NIOCore
import RESP
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Garbage on one connection gets Redis's `-ERR Protocol error: …` and that connection is
/// closed; every other client keeps being served, during and after.
@Suite(.timeLimit(.minutes(1)))
struct BadInputTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let bytes: [UInt8]
        let reply: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "non-numeric multibulk count", bytes: Array("*abc\r\n".utf8),
             reply: "-ERR Protocol error: invalid multibulk length\r\n"),
        Case(name: "non-numeric bulk length", bytes: Array("*1\r\n$x\r\n".utf8),
             reply: "-ERR Protocol error: invalid bulk length\r\n"),
        Case(name: "negative bulk length", bytes: Array("*1\r\n$-1\r\n".utf8),
             reply: "-ERR Protocol error: invalid bulk length\r\n"),
        Case(name: "2 GB bulk announcement", bytes: Array("*1\r\n$2147483648\r\n".utf8),
             reply: "-ERR Protocol error: invalid bulk length\r\n"),
        Case(name: "10,000-deep nesting", bytes: Array(String(repeating: "*1\r\n", count: 10_000).utf8),
             reply: "-ERR Protocol error: expected '$', got '*'\r\n"),
        Case(name: "inline line over 64 KiB", bytes: [UInt8](repeating: UInt8(ascii: "a"), count: 64 * 1024 + 100),
             reply: "-ERR Protocol error: too big inline request\r\n"),
        Case(name: "unbalanced double quote inline", bytes: Array("ECHO \"abc\r\n".utf8),
             reply: "-ERR Protocol error: unbalanced quotes in request\r\n"),
        Case(name: "unbalanced single quote inline", bytes: Array("SET 'k v\r\n".utf8),
             reply: "-ERR Protocol error: unbalanced quotes in request\r\n"),
        Case(name: "binary noise after '*'", bytes: [UInt8(ascii: "*")] + BadInputTests.noise(count: 200, seed: 7) + [13, 10],
             reply: "-ERR Protocol error: invalid multibulk length\r\n"),
        Case(name: "payload not followed by CRLF", bytes: Array("*2\r\n$4\r\nECHO\r\n$2\r\nhiXY".utf8),
             reply: "-ERR Protocol error: expected CRLF after bulk payload\r\n"),
    ]

    /// Bytes with no CR or LF, from a fixed seed.
    static func noise(count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let byte = UInt8(truncatingIfNeeded: state >> 56)
            return byte == 13 || byte == 10 ? 0x41 : byte
        }
    }

    @Test(arguments: cases)
    func garbageGetsAProtocolErrorAndIsClosedWhileOthersAreServed(_ input: Case) async throws {
        try await withGateway { server in
            let bystander = try RawClient(port: server.localPort)
            #expect(try bystander.command("PING") == .simpleString("PONG"))

            let offender = try RawClient(port: server.localPort)
            try offender.send(input.bytes)
            #expect(try bystander.command("ECHO", "during") == .bulkString("during"))
            let outcome = offender.readUntilClosed()
            #expect(String(decoding: outcome.bytes, as: UTF8.self) == input.reply)
            #expect(outcome.closed, "the server should close the connection")

            #expect(try bystander.command("PING") == .simpleString("PONG"))
            let fresh = try RawClient(port: server.localPort)
            #expect(try fresh.command("PING") == .simpleString("PONG"))
            #expect(server.stats.totalProtocolErrors == 1)
            #expect(await eventually { server.registry.count == 2 })
        }
    }

    /// The same bytes to the gateway and to a real Redis: the same reply, both close.
    @Test func protocolErrorsMatchRedis() async throws {
        let redisPort = try await referenceRedisPort()
        // Skip cases where the gateway is stricter than Redis by design (Redis does not check the CRLF after a payload).
        let comparable = Self.cases.filter { !$0.name.contains("CRLF") }
        try await withGateway { server in
            for input in comparable {
                let gateway = try RawClient(port: server.localPort)
                let redis = try RawClient(port: redisPort)
                try gateway.send(input.bytes)
                try redis.send(input.bytes)
                let expected = redis.readUntilClosed()
                let actual = gateway.readUntilClosed()
                #expect(String(decoding: actual.bytes, as: UTF8.self) == String(decoding: expected.bytes, as: UTF8.self),
                        "\(input.name)")
                #expect(actual.closed == expected.closed, "\(input.name)")
            }
        }
    }

    /// Random bytes in many small writes: whatever the server answers is well-formed error
    /// replies, it never crashes or hangs, and another client is served throughout.
    @Test func randomNoiseNeverHurtsOtherClients() async throws {
        try await withGateway { server in
            let bystander = try RawClient(port: server.localPort)
            for seed in UInt64(1)...20 {
                let offender = try RawClient(port: server.localPort, receiveTimeout: .milliseconds(300))
                var noise = Self.noise(count: 4_096, seed: seed)
                for index in stride(from: 0, to: noise.count, by: 97) { noise[index] = seed % 2 == 0 ? 10 : 13 }  // some line ends
                _ = try? offender.send(noise)
                let outcome = offender.readUntilClosed()  // bounded by the receive timeout
                var replies = ByteBuffer(bytes: outcome.bytes)
                var decoder = RESPValueDecoder()
                while let value = try decoder.decode(buffer: &replies) {
                    guard case .error = value else {
                        Issue.record("seed \(seed): non-error reply to noise: \(value)")
                        break
                    }
                }
                #expect(try bystander.command("ECHO", "seed-\(seed)") == .bulkString("seed-\(seed)"))
            }
        }
    }
}
