#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// A TCP proxy on loopback that a test puts between the gateway and Redis or PostgreSQL to
/// make the network misbehave, switched at run time. The kernel on the machines this project
/// tests on has no `netem` qdisc, and a proxy needs no root; what each fault does to the bytes
/// is what the application at either end would see of the real fault:
///
/// - **latency**: every chunk read in one direction is written out `delay` later, in order
///   (a link with that one-way delay; the bytes keep flowing, so throughput is unchanged).
/// - **loss**: TCP never shows a lost packet to the application; it shows a stall. A lost
///   segment and everything behind it wait for the retransmission: Linux's minimum RTO is
///   200 ms, doubled for each retransmission lost too. So each 1,448-byte segment of a chunk is
///   lost with `probability`, and a chunk holding a lost one (and all that follows it, TCP being
///   in order) is released after 200 ms × 2^k, k the retransmissions also lost. Tail-loss probes
///   and fast retransmit often recover sooner on a real network: this is the worse case.
/// - **partition**: nothing is forwarded either way and no connection is reset, closed or
///   refused (packets silently dropped, both ends' kernels retransmitting). A new connection is
///   accepted and joined to the server, but nothing it sends arrives: a client sees a silent
///   peer, as a connection whose handshake completed just before the partition would. On
///   `heal`, what was held is delivered, as the retransmissions would be, and a close made
///   meanwhile reaches the other end then.
///
/// What it cannot show: TCP-level detection (keepalive probes, `TCP_USER_TIMEOUT`) sees the
/// proxy's own socket, which always answers; tests through it prove the application's own
/// time limits.
public final class FaultProxy: @unchecked Sendable {
    public enum Fault: Sendable, Equatable, CustomStringConvertible {
        case none
        case latency(Duration)
        case loss(probability: Double)
        case partition

        public var description: String {
            switch self {
            case .none: return "none"
            case .latency(let delay): return "latency \(milliseconds(delay)) ms"
            case .loss(let probability): return "loss \(Int(probability * 100))%"
            case .partition: return "partition"
            }
        }
    }

    /// The port the gateway connects to instead of the server's.
    public let port: Int
    private let upstreamPort: Int
    private let listener: Int32
    private let shared = Shared()
    private var acceptThread: Thread?

    /// What the threads read: the fault and the stop flag.
    fileprivate final class Shared: Sendable {
        let fault = Mutex(Fault.none)
        let stopped = Atomic<Bool>(false)
        let connections = Atomic<Int>(0)
    }

    /// Listens on a free loopback port and forwards every connection to `upstreamPort`.
    public init(upstreamPort: Int) throws {
        self.upstreamPort = upstreamPort
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw FaultProxyError(description: "FaultProxy: socket() failed") }
        var yes: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Glibc.listen(descriptor, 128) == 0 else {
            close(descriptor)
            throw FaultProxyError(description: "FaultProxy: bind/listen failed")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        listener = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [shared] in Self.acceptLoop(descriptor, upstreamPort, shared) }
        thread.start()
        acceptThread = thread
    }

    /// `redis://127.0.0.1:<port>` or `postgresql://…@127.0.0.1:<port>/…`: `url` with its port
    /// replaced by the proxy's.
    public func url(replacingPortIn url: String) -> String {
        url.replacingOccurrences(of: ":\(upstreamPort)", with: ":\(port)")
    }

    /// Applies `fault` to every connection from now on (`.none` heals).
    public func set(_ fault: Fault) {
        shared.fault.withLock { $0 = fault }
    }

    /// Connections forwarded so far.
    public var connectionCount: Int { shared.connections.load(ordering: .relaxed) }

    /// Stops accepting and ends every connection (their threads exit within 20 ms).
    public func stop() {
        guard !shared.stopped.exchange(true, ordering: .relaxed) else { return }
        usleep(50_000)
        close(listener)
    }

    deinit { stop() }

    // MARK: - Threads

    private static func acceptLoop(_ listener: Int32, _ upstreamPort: Int, _ shared: Shared) {
        while !shared.stopped.load(ordering: .relaxed) {
            var descriptor = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 20) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = loopback(port: upstreamPort)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard upstream >= 0, connected == 0 else {
                // The server is down: refuse as it would.
                close(client)
                if upstream >= 0 { close(upstream) }
                continue
            }
            shared.connections.add(1, ordering: .relaxed)
            Thread {
                var connection = ProxiedConnection(client: client, upstream: upstream, shared: shared)
                connection.run()
            }.start()
        }
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return address
    }
}

/// One forwarded connection: both directions on one thread, each a queue of chunks with the
/// time each may be written.
private struct ProxiedConnection {
    private struct Chunk {
        var bytes: [UInt8]
        let releaseAt: ContinuousClock.Instant
    }

    private struct Direction {
        let from: Int32
        let to: Int32
        var queue: [Chunk] = []
        var queuedBytes = 0
        var readEnded = false
        var writeShutDown = false
        /// When the last chunk may go: TCP delivers in order, so nothing overtakes a held chunk.
        var lastRelease = ContinuousClock.now
    }

    private var directions: [Direction]
    private let shared: FaultProxy.Shared
    private var random = SystemRandomNumberGenerator()
    /// A direction stops reading past this much held (as a sender's window would fill).
    private let heldLimit = 4 << 20

    init(client: Int32, upstream: Int32, shared: FaultProxy.Shared) {
        for descriptor in [client, upstream] {
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
            var yes: Int32 = 1
            setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
        }
        directions = [Direction(from: client, to: upstream), Direction(from: upstream, to: client)]
        self.shared = shared
    }

    mutating func run() {
        defer {
            close(directions[0].from)
            close(directions[1].from)
        }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !shared.stopped.load(ordering: .relaxed) {
            let before = shared.fault.withLock { $0 }
            var descriptors = [pollfd(fd: directions[0].from, events: 0, revents: 0),
                               pollfd(fd: directions[1].from, events: 0, revents: 0)]
            for index in 0..<2 {
                let direction = directions[index]
                if !direction.readEnded && direction.queuedBytes < heldLimit { descriptors[index].events |= Int16(POLLIN) }
                // Waiting for room to write this direction's due bytes (on the other socket).
                if before != .partition, let first = direction.queue.first, first.releaseAt <= .now {
                    descriptors[1 - index].events |= Int16(POLLOUT)
                }
            }
            // poll() reports a hung-up socket even with no events asked: leave idle ones out.
            for index in 0..<2 where descriptors[index].events == 0 { descriptors[index].fd = -1 }
            _ = poll(&descriptors, 2, nextWakeMilliseconds(before))
            // What was read during the wait meets the fault in force now, not before it.
            let fault = shared.fault.withLock { $0 }
            let now = ContinuousClock.now
            for index in 0..<2 where descriptors[index].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0
                && !directions[index].readEnded {
                let count = read(directions[index].from, &buffer, buffer.count)
                if count > 0 {
                    enqueue(Array(buffer[0..<count]), index, fault: fault, now: now)
                } else if count == 0 || (errno != EAGAIN && errno != EINTR) {
                    directions[index].readEnded = true
                }
            }
            guard fault != .partition else { continue }
            for index in 0..<2 {
                guard flush(index, now: now) else { return }
                if directions[index].readEnded && directions[index].queue.isEmpty && !directions[index].writeShutDown {
                    shutdown(directions[index].to, Int32(SHUT_WR))
                    directions[index].writeShutDown = true
                }
            }
            if directions[0].writeShutDown && directions[1].writeShutDown { return }
        }
    }

    /// Until the next chunk is due (at most 20 ms, to see a new fault or the stop).
    private func nextWakeMilliseconds(_ fault: FaultProxy.Fault) -> Int32 {
        guard fault != .partition else { return 20 }
        let now = ContinuousClock.now
        var wait: Duration = .milliseconds(20)
        for direction in directions {
            if let first = direction.queue.first { wait = min(wait, max(.zero, first.releaseAt - now)) }
        }
        return Int32(milliseconds(wait))
    }

    private mutating func enqueue(_ bytes: [UInt8], _ index: Int, fault: FaultProxy.Fault, now: ContinuousClock.Instant) {
        var release = now
        switch fault {
        case .none, .partition:
            break
        case .latency(let delay):
            release = now + delay
        case .loss(let probability):
            let segments = (bytes.count + 1_447) / 1_448
            let lost = (0..<segments).contains { _ in Double.random(in: 0..<1, using: &random) < probability }
            if lost {
                var hold: Duration = .milliseconds(200)
                while Double.random(in: 0..<1, using: &random) < probability { hold *= 2 }
                release = now + hold
            }
        }
        release = max(release, directions[index].lastRelease)
        directions[index].lastRelease = release
        directions[index].queue.append(Chunk(bytes: bytes, releaseAt: release))
        directions[index].queuedBytes += bytes.count
    }

    /// Writes this direction's due chunks as far as the socket takes them; false when the
    /// other end is gone (the connection then ends).
    private mutating func flush(_ index: Int, now: ContinuousClock.Instant) -> Bool {
        while let first = directions[index].queue.first, first.releaseAt <= now {
            let written = first.bytes.withUnsafeBytes { send(directions[index].to, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0 {
                return errno == EAGAIN || errno == EINTR
            }
            directions[index].queuedBytes -= written
            if written == first.bytes.count {
                directions[index].queue.removeFirst()
            } else {
                directions[index].queue[0].bytes.removeFirst(written)
                return true
            }
        }
        return true
    }
}

/// Whole milliseconds of `duration`.
private func milliseconds(_ duration: Duration) -> Int64 {
    duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
}

public struct FaultProxyError: Error, CustomStringConvertible {
    public let description: String
}
