import Foundation
import NIOCore
import RESP
import Testing
import TestSupport

/// The fault proxy does what the network-fault tests rely on: latency delays each way,
/// a partition answers nothing and resets nothing, and the heal delivers what was held.
@Suite(.timeLimit(.minutes(1))) struct FaultProxyTests {
    @Test func latencyDelaysEachWayAndAPartitionHoldsUntilTheHeal() throws {
        let redis = try PrivateRedis()
        defer { redis.stop() }
        let proxy = try FaultProxy(upstreamPort: redis.port)
        defer { proxy.stop() }
        let client = try RawClient(port: proxy.port, receiveTimeout: .seconds(2))
        #expect(try client.command("PING") == .simpleString(ByteBuffer(string: "PONG")))

        proxy.set(.latency(.milliseconds(200)))
        var started = Date()
        #expect(try client.command("PING") == .simpleString(ByteBuffer(string: "PONG")))
        let roundTrip = Date().timeIntervalSince(started)
        #expect(roundTrip >= 0.4 && roundTrip < 1.5, "200 ms each way: \(roundTrip) s")

        proxy.set(.partition)
        client.setReceiveTimeout(.seconds(1))
        try client.sendCommand(["SET", "held", "1"])
        #expect(throws: (any Error).self, "no answer through a partition") { _ = try client.readReply() }
        let direct = try RawClient(port: redis.port)
        #expect(try direct.command("EXISTS", "held") == .integer(0), "the command did not reach Redis")
        started = Date()
        proxy.set(.none)
        client.setReceiveTimeout(.seconds(2))
        #expect(try client.readReply() == .simpleString(ByteBuffer(string: "OK")), "the connection survived and the heal delivered it")
        #expect(Date().timeIntervalSince(started) < 1.5)
        #expect(try direct.command("EXISTS", "held") == .integer(1))
    }
}
