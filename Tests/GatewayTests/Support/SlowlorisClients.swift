import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Slowloris on a thread of its own: `count` connections each send one byte of `request`
/// every `interval`, all in the same round, and the thread notes when the server closes each
/// one, counted from that connection's first byte. It stops when all are closed or `bound`
/// after the first round.
final class SlowlorisClients: Sendable {
    struct Outcome: Sendable {
        /// Per closed connection: from its first byte to the close being seen (within 10 ms).
        var lifetimes: [Duration]
        var stillOpen: Int
        /// Bytes each connection sent at most before it was closed.
        var mostBytesSent: Int
        var connectSeconds: Double
    }

    private let done = DispatchSemaphore(value: 0)
    private let finished = Atomic<Bool>(false)
    private let result = Mutex<Result<Outcome, TestFailure>?>(nil)

    init(port: Int, count: Int, request: [UInt8], interval: Duration, bound: Duration) {
        Thread.detachNewThread { [self] in
            let outcome = Result { try Self.run(port: port, count: count, request: request, interval: interval, bound: bound) }
            result.withLock { $0 = outcome.mapError { $0 as? TestFailure ?? TestFailure("\($0)") } }
            finished.store(true, ordering: .releasing)
            done.signal()
        }
    }

    /// Whether the thread has finished (every connection closed, or the bound passed).
    var isFinished: Bool { finished.load(ordering: .acquiring) }

    func join() throws -> Outcome {
        guard done.wait(timeout: .now() + 120) == .success, let outcome = result.withLock({ $0 }) else {
            throw TestFailure("the slowloris thread did not finish")
        }
        return try outcome.get()
    }

    private static func run(port: Int, count: Int, request: [UInt8], interval: Duration, bound: Duration) throws -> Outcome {
        let connectStarted = ContinuousClock.now
        let clients = try (0..<count).map { _ in try RawClient(port: port) }
        let connectSeconds = Latencies.milliseconds(ContinuousClock.now - connectStarted) / 1_000
        var firstByte = [ContinuousClock.Instant?](repeating: nil, count: count)
        var closedAt = [ContinuousClock.Instant?](repeating: nil, count: count)
        var sent = [Int](repeating: 0, count: count)
        let start = ContinuousClock.now
        var nextRound = start
        while closedAt.contains(where: { $0 == nil }) && ContinuousClock.now - start < bound {
            if ContinuousClock.now >= nextRound {
                for index in clients.indices where closedAt[index] == nil {
                    let now = ContinuousClock.now
                    if firstByte[index] == nil { firstByte[index] = now }
                    do {
                        try clients[index].send([request[sent[index] % request.count]])
                        sent[index] += 1
                    } catch {
                        closedAt[index] = now  // closed between the last poll and this byte
                    }
                }
                nextRound += interval
            }
            noteClosed(clients, &closedAt, waitMilliseconds: 10)
        }
        let lifetimes = clients.indices.compactMap { index in
            closedAt[index].flatMap { closed in firstByte[index].map { closed - $0 } }
        }
        return Outcome(lifetimes: lifetimes, stillOpen: closedAt.filter { $0 == nil }.count,
                       mostBytesSent: sent.max() ?? 0, connectSeconds: connectSeconds)
    }

    /// Waits up to `waitMilliseconds` for any open connection to be closed by the server and
    /// notes the time of each that was.
    private static func noteClosed(_ clients: [RawClient], _ closedAt: inout [ContinuousClock.Instant?], waitMilliseconds: Int32) {
        let open = clients.indices.filter { closedAt[$0] == nil }
        var polled = open.map { pollfd(fd: clients[$0].fd, events: Int16(POLLIN), revents: 0) }
        guard poll(&polled, nfds_t(polled.count), waitMilliseconds) > 0 else { return }
        let now = ContinuousClock.now
        for (slot, index) in open.enumerated() where polled[slot].revents != 0 && clients[index].peerClosed {
            closedAt[index] = now
        }
    }
}
