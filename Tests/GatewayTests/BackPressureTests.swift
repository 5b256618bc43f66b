import Foundation
import Gateway
import NIOCore
import RESP
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A client that pipelines without ever reading its replies must not make the server buffer
/// without bound: the server stops reading, so the sender's socket fills up and blocks.
@Suite(.timeLimit(.minutes(1)))
struct BackPressureTests {
    /// Sends `request` repeatedly on a non-blocking socket until the socket stays unwritable
    /// for `stall`, or `limit` bytes went out, or `deadline` passed. Returns the bytes sent
    /// and whether the stall was reached.
    static func floodUntilStalled(
        fd: Int32, request: [UInt8], limit: Int, stall: Duration = .milliseconds(500), deadline: Duration = .seconds(8)
    ) -> (sent: Int, stalled: Bool) {
        let flags = fcntl(fd, F_GETFL, 0)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        var chunk: [UInt8] = []
        while chunk.count < 256 * 1024 { chunk += request }
        let end = ContinuousClock.now + deadline
        var sent = 0
        var offset = 0
        while sent < limit && ContinuousClock.now < end {
            let count = chunk[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count > 0 {
                sent += count
                offset = (offset + count) % chunk.count
                continue
            }
            if count < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR { return (sent, false) }
            // Blocked: retry every 20 ms (poll's POLLOUT waits for a third of the buffer to free up,
            // which a slowly draining peer may never reach); no byte accepted for `stall` = stalled.
            let stallEnd = ContinuousClock.now + stall
            var progressed = false
            while ContinuousClock.now < stallEnd {
                usleep(20_000)
                let retry = chunk[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if retry > 0 {
                    sent += retry
                    offset = (offset + retry) % chunk.count
                    progressed = true
                    break
                }
            }
            if !progressed { return (sent, true) }  // the server stopped reading
        }
        return (sent, false)
    }

    @Test func aClientThatNeverReadsIsThrottledAndOthersAreServed() async throws {
        try await withGateway { server in
            let bystander = try RawClient(port: server.localPort)
            var flooder: RawClient? = try RawClient(port: server.localPort)
            let payload = String(repeating: "x", count: 1024)
            let request = Array("*2\r\n$4\r\nECHO\r\n$1024\r\n\(payload)\r\n".utf8)
            let limit = 50 * 1024 * 1024

            let fd = flooder!.fd
            let flood = Task.detached { Self.floodUntilStalled(fd: fd, request: request, limit: limit) }
            // Served while the flood is going on.
            for index in 0..<20 {
                #expect(try bystander.command("ECHO", "during-\(index)") == .bulkString("during-\(index)"))
                try await Task.sleep(for: .milliseconds(20))
            }
            let (sent, stalled) = await flood.value
            #expect(stalled, "the sender never blocked after \(sent) bytes: the server kept reading")
            #expect(sent < limit)
            // Stays stalled: the server does not resume reading while the replies are not read.
            let more = Self.floodUntilStalled(fd: fd, request: request, limit: limit, deadline: .seconds(2))
            #expect(more.stalled)
            #expect(more.sent < 8 * 1024 * 1024, "the server kept reading: \(more.sent) more bytes")  // a little may drain late on a busy machine
            #expect(try bystander.command("PING") == .simpleString("PONG"))

            // Once the flooder closes its socket (unread replies: the kernel resets the
            // connection), the server drops it and its buffered replies.
            flooder = nil
            #expect(await eventually(timeout: .seconds(5)) { server.registry.count == 1 })
            #expect(try bystander.command("PING") == .simpleString("PONG"))
        }
    }

    @Test func aStreamOfUnreadPingsIsThrottledToo() async throws {
        try await withGateway { server in
            let bystander = try RawClient(port: server.localPort)
            // Small fixed socket buffers on the flooder: with the kernel's autotuning, megabytes of
            // PONGs fit in its receive buffer, and a slow debug build on a busy 2-core machine
            // needed more than 8 s to fill them (the flood then looked like a server that never
            // stopped reading).
            let flooder = try RawClient(port: server.localPort, socketBufferBytes: 64 * 1024)
            let request = Array("PING\r\n".utf8)
            let fd = flooder.fd
            let flood = Task.detached {
                Self.floodUntilStalled(fd: fd, request: request, limit: 200 * 1024 * 1024, deadline: .seconds(25))
            }
            for _ in 0..<10 {
                #expect(try bystander.command("PING") == .simpleString("PONG"))
                try await Task.sleep(for: .milliseconds(50))
            }
            let (sent, stalled) = await flood.value
            #expect(stalled, "the sender never blocked after \(sent) bytes of PINGs")
            // Keep pushing for 3 s: only a trickle gets through (the kernel compacts queued tiny
            // PONG segments and frees a little receive space now and then), not a stream.
            let more = Self.floodUntilStalled(
                fd: fd, request: request, limit: 200 * 1024 * 1024, stall: .seconds(3), deadline: .seconds(3))
            #expect(more.sent < 4 * 1024 * 1024, "the server kept reading: \(more.sent) more bytes in 3 s")
            #expect(try bystander.command("PING") == .simpleString("PONG"))
        }
    }

    /// The gateway as a separate process, so its memory can be measured alone: 50 MB of
    /// unread `ECHO <1 KiB>` replies must not show up in its resident memory.
    @Test func gatewayMemoryStaysBoundedUnderAnUnreadFlood() async throws {
        let gateway = try await GatewayProcess(arguments: ["--threads", "2"])
        let bystander = try RawClient(port: gateway.port)
        #expect(try bystander.command("PING") == .simpleString("PONG"))
        let before = try gateway.residentKiB()

        var flooder: RawClient? = try RawClient(port: gateway.port)
        let fd = flooder!.fd
        let request = Array("*2\r\n$4\r\nECHO\r\n$1024\r\n\(String(repeating: "y", count: 1024))\r\n".utf8)
        let limit = 50 * 1024 * 1024
        let (sent, stalled) = await Task.detached { Self.floodUntilStalled(fd: fd, request: request, limit: limit) }.value
        #expect(stalled, "the sender never blocked after \(sent) bytes")
        let during = try gateway.residentKiB()
        #expect(during - before < 32 * 1024, "RSS grew from \(before) KiB to \(during) KiB after \(sent) bytes")
        #expect(try bystander.command("ECHO", "still") == .bulkString("still"))

        flooder = nil
        #expect(try bystander.command("PING") == .simpleString("PONG"))
        let (_, err, graceful) = await gateway.stop()
        #expect(graceful, "\(err)")
    }
}
