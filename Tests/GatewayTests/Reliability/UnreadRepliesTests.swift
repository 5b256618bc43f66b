import Foundation
import Synchronization
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Issue 26's flood: 100 clients pipeline `GET leaderboard:weekly` (8.5 KB) for 15 s and never
/// read. The gateway (a separate process, so its memory is its own) must stay under its
/// configured bound on client buffers, keep serving a client that reads, and keep its shared
/// Redis connection answering.
@Suite(.timeLimit(.minutes(2))) struct UnreadRepliesTests {
    private static let flooders = 100
    private static let floodSeconds = 15.0
    private static let leaderboardBytes = 8_515
    /// `limits.maxmemory_clients_bytes`' default.
    private static let clientBufferBound = 128 * 1024 * 1024

    @Test func aHundredClientsThatNeverReadLeaveTheGatewayBoundedAndOthersServed() async throws {
        let harness = try await GatewayHarness(label: "unread")
        defer { Task { await harness.stop() } }
        let gateway = try await GatewayProcess(arguments: [
            "--redis-url", harness.configuration.redisURL, "--postgres-url", harness.database.url,
        ])
        try await harness.waitForListener(port: gateway.port)
        // A leaderboard of the real size, planted in Redis once both gateways' listeners have
        // done their start-up flushes: every GET below is a hit.
        let value = String(repeating: "l", count: Self.leaderboardBytes)
        _ = try harness.directRedis().command("SET", "leaderboard:weekly", value, "EX", "600")
        let reader = try RedisTestClient(port: gateway.port)
        #expect(try reader.command("GET", "leaderboard:weekly").string?.utf8.count == Self.leaderboardBytes)
        let before = try gateway.residentKiB()

        let request = Array("*2\r\n$3\r\nGET\r\n$18\r\nleaderboard:weekly\r\n".utf8)
        let flood = UnreadFlood(port: gateway.port, clients: Self.flooders, request: request, seconds: Self.floodSeconds)
        // Meanwhile a client that reads: one GET every 10 ms, timed.
        var latencies: [Double] = []
        var wrong = 0
        let end = Date().addingTimeInterval(Self.floodSeconds)
        while Date() < end {
            let started = ContinuousClock.now
            let reply: RedisTestClient.Reply
            do { reply = try reader.command("GET", "leaderboard:weekly") } catch {
                _ = try? flood.join()
                let (_, stderr, _) = await gateway.stop()
                Issue.record("the reading client failed: \(error); gateway log: \(stderr.suffix(3_000))")
                return
            }
            latencies.append(Double((ContinuousClock.now - started).components.attoseconds) / 1e15
                + Double((ContinuousClock.now - started).components.seconds) * 1_000)
            if reply.string?.utf8.count != Self.leaderboardBytes { wrong += 1 }
            try await Task.sleep(for: .milliseconds(10))
        }
        let sent = try flood.join()
        let peak = try gateway.peakResidentKiB()
        let info = try reader.command("INFO", "stats").string ?? ""
        let clients = try reader.command("INFO", "clients").string ?? ""
        let (_, stderr, graceful) = await gateway.stop()

        latencies.sort()
        let p99 = latencies[min(latencies.count - 1, latencies.count * 99 / 100)]
        let grown = (peak - before) * 1024
        print("""
            unread flood: clients=\(Self.flooders) seconds=\(Self.floodSeconds) sent_mib=\(sent.bytes >> 20) \
            reconnects=\(sent.reconnects) rss_before_mib=\(before >> 10) peak_rss_mib=\(peak >> 10) \
            grown_mib=\(grown >> 20) bound_mib=\(Self.clientBufferBound >> 20) reader_gets=\(latencies.count) \
            reader_p99_ms=\(String(format: "%.2f", p99)) release=\(gateway.isReleaseBuild) \
            \(Self.fields(info, ["client_output_buffer_limit_disconnections", "evicted_clients", "client_query_buffer_limit_disconnections"])) \
            \(Self.fields(clients, ["mem_clients_normal"]))
            """)
        #expect(wrong == 0)
        #expect(grown < Self.clientBufferBound, "the gateway grew \(grown >> 20) MiB under the flood")
        let bound: Double = gateway.isReleaseBuild ? 50 : 150
        #expect(p99 < bound, "the reading client's p99 was \(p99) ms (bound \(bound) ms)")
        #expect(!stderr.contains("did not reply within"), "the shared Redis connection stalled")
        #expect(!stderr.contains("cannot connect to Redis"))
        #expect(graceful, "\(stderr.suffix(2_000))")
    }

    private static func fields(_ info: String, _ names: [String]) -> String {
        names.map { name in
            let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix(name + ":") }
            return "\(name)=\(line.map { String($0.dropFirst(name.count + 1)) } ?? "?")"
        }.joined(separator: " ")
    }
}

/// Clients that send one request over and over without reading, on a thread of their own,
/// reconnecting when the gateway closes them, until the time is up.
private final class UnreadFlood: Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let result = Mutex<Result<(bytes: Int, reconnects: Int), TestFailure>?>(nil)

    init(port: Int, clients: Int, request: [UInt8], seconds: Double) {
        Thread.detachNewThread { [self] in
            result.withLock { $0 = Self.run(port: port, clients: clients, request: request, seconds: seconds) }
            done.signal()
        }
    }

    func join() throws -> (bytes: Int, reconnects: Int) {
        guard done.wait(timeout: .now() + 60) == .success, let outcome = result.withLock({ $0 }) else {
            throw TestFailure("the flooding thread did not finish")
        }
        return try outcome.get()
    }

    private static func run(port: Int, clients: Int, request: [UInt8], seconds: Double)
        -> Result<(bytes: Int, reconnects: Int), TestFailure>
    {
        var chunk: [UInt8] = []
        while chunk.count < 64 * 1024 { chunk += request }
        var sockets: [Int32] = []
        var offsets = [Int](repeating: 0, count: clients)
        for _ in 0..<clients {
            guard let fd = connectNonBlocking(port: port) else { return .failure(TestFailure("cannot connect to \(port)")) }
            sockets.append(fd)
        }
        defer { for fd in sockets { close(fd) } }
        var bytes = 0
        var reconnects = 0
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            var progressed = false
            for index in sockets.indices {
                let offset = offsets[index]
                let count = chunk[offset...].withUnsafeBytes { send(sockets[index], $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if count > 0 {
                    bytes += count
                    offsets[index] = (offset + count) % chunk.count
                    progressed = true
                } else if count < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                    // Closed by the gateway: come back, as a misbehaving client would.
                    close(sockets[index])
                    guard let fd = connectNonBlocking(port: port) else { return .failure(TestFailure("cannot reconnect")) }
                    sockets[index] = fd
                    offsets[index] = 0
                    reconnects += 1
                }
            }
            if !progressed { usleep(5_000) }
        }
        return .success((bytes, reconnects))
    }

    private static func connectNonBlocking(port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            return nil
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK)
        return fd
    }
}
