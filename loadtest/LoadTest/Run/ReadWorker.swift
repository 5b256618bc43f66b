import CacheModel
import Foundation
import HiredisClient
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// One reader thread: its share of the connections, each an independent client that keeps
/// `depth` requests in flight.
///
/// The thread polls its connections and, as each reply arrives, sends that connection's next
/// request at once (redis-benchmark's model): connections never wait for one another, and
/// one thread serves many of them, so the load tool's own thread switches stay out of the
/// way of the server it measures on a small machine. A request's latency runs from its
/// send to its reply. On stop nothing more is sent and what is in flight is read (for at
/// most 2 s). A lost connection is counted and reopened after 100 ms.
final class ReadWorker: Sendable {
    let stats = WorkerStats()
    private let index: Int
    private let connectionCount: Int
    private let options: RunOptions
    private let chooser: KeyChooser
    private let stop: StopFlag
    private let verifier: StalenessVerifier?
    private let measuredRequests: SharedCounter
    /// `miss-only`: the shared source of never-requested keys (nil: Zipf draws).
    private let distinctKeys: DistinctKeyCursor?
    private let finished = Atomic<Bool>(false)
    /// A request is verified when a uniform draw falls below this (`--verify F` of all draws).
    private let verifyThreshold: UInt64

    init(index: Int, connectionCount: Int, options: RunOptions, chooser: KeyChooser, stop: StopFlag,
         verifier: StalenessVerifier?, measuredRequests: SharedCounter, distinctKeys: DistinctKeyCursor? = nil) {
        self.index = index
        self.connectionCount = connectionCount
        self.options = options
        self.chooser = chooser
        self.stop = stop
        self.verifier = verifier
        self.measuredRequests = measuredRequests
        self.distinctKeys = distinctKeys
        self.verifyThreshold = UInt64(options.verifyFraction * Double(UInt64.max >> 11)) << 11
    }

    var isFinished: Bool { finished.load(ordering: .acquiring) }

    func start() {
        let thread = Thread { [self] in
            run()
            finished.store(true, ordering: .releasing)
        }
        thread.name = "loadtest-reader-\(index)"
        thread.start()
    }

    private struct Pending {
        var family: KeyFamily
        var id: Int
        var sample: Bool
        var sentAt: ContinuousClock.Instant
    }

    /// The thread's connections and what each has in flight (oldest first).
    private struct Clients {
        var connections: [HiredisConnection?]
        var pending: [[Pending]]
        var lostAt: ContinuousClock.Instant?

        var inFlight: Int { pending.reduce(0) { $0 + $1.count } }
    }

    private func run() {
        var random = SplitMix64(seed: options.seed, stream: 0x5EAD, entity: UInt64(index))
        var clients = Clients(
            connections: (0..<connectionCount).map { _ in
                try? HiredisConnection(host: options.host, port: options.port, timeoutSeconds: 5)
            },
            pending: [[Pending]](repeating: [], count: connectionCount))
        var outcomes: [Outcome] = []
        var descriptors: [pollfd] = []
        var slots: [Int] = []
        var keysExhausted = false
        var drainDeadline: ContinuousClock.Instant?
        let clock = ContinuousClock()
        if clients.connections.contains(where: { $0 == nil }) { clients.lostAt = clock.now }
        for slot in 0..<connectionCount { topUp(slot, &clients, &random, &keysExhausted) }
        while true {
            if stop.isRaised || (keysExhausted && clients.inFlight == 0) {
                if keysExhausted { stop.raise() }
                if clients.inFlight == 0 { break }
                let deadline = drainDeadline ?? clock.now + .seconds(2)
                drainDeadline = deadline
                if clock.now >= deadline { break }
            }
            descriptors.removeAll(keepingCapacity: true)
            slots.removeAll(keepingCapacity: true)
            for slot in 0..<connectionCount where !clients.pending[slot].isEmpty {
                guard let connection = clients.connections[slot] else { continue }
                descriptors.append(pollfd(fd: connection.descriptor, events: Int16(POLLIN), revents: 0))
                slots.append(slot)
            }
            if descriptors.isEmpty {
                Thread.sleep(forTimeInterval: 0.01)
            } else if poll(&descriptors, nfds_t(descriptors.count), 100) > 0 {
                for (position, descriptor) in descriptors.enumerated() where descriptor.revents != 0 {
                    let slot = slots[position]
                    read(slot, &clients, into: &outcomes, now: clock.now)
                    if drainDeadline == nil { topUp(slot, &clients, &random, &keysExhausted) }
                }
            }
            let measured = stats.record(outcomes)
            outcomes.removeAll(keepingCapacity: true)
            if measured > 0, let limit = options.requests {
                let total = measuredRequests.add(measured)
                if total >= limit { stop.raise() }
            }
            if let lostAt = clients.lostAt, clock.now - lostAt >= .milliseconds(100), drainDeadline == nil {
                reconnect(&clients)
                for slot in 0..<connectionCount where clients.pending[slot].isEmpty {
                    topUp(slot, &clients, &random, &keysExhausted)
                }
            }
        }
    }

    /// Reads the replies that arrived on `slot` and records them.
    private func read(_ slot: Int, _ clients: inout Clients, into outcomes: inout [Outcome], now: ContinuousClock.Instant) {
        guard let connection = clients.connections[slot] else { return }
        do throws(HiredisError) {
            try connection.readAvailable()
            while let request = clients.pending[slot].first {
                var reply = GetReply.other
                guard try connection.readBufferedReply({ reply = GetReply($0, keepingText: request.sample) }) else { break }
                clients.pending[slot].removeFirst()
                let elapsed = now - request.sentAt
                let micros = UInt64(elapsed.components.seconds) * 1_000_000
                    + UInt64(elapsed.components.attoseconds / 1_000_000_000_000)
                outcomes.append(Outcome(family: request.family, kind: Self.kind(reply), microseconds: micros))
                if request.sample, let verifier {
                    switch reply {
                    case let .value(text): verifier.submit(family: request.family, id: request.id, value: text)
                    case .null: verifier.submit(family: request.family, id: request.id, value: nil)
                    default: break
                    }
                }
            }
        } catch {
            lost(slot, &clients)
        }
    }

    /// Sends `slot` new requests until it has `depth` in flight (none once the keys ran out).
    private func topUp(_ slot: Int, _ clients: inout Clients, _ random: inout SplitMix64, _ keysExhausted: inout Bool) {
        guard let connection = clients.connections[slot], clients.pending[slot].count < options.pipelineDepth,
              !stop.isRaised else { return }
        let sentAt = ContinuousClock.now
        var added = 0
        while clients.pending[slot].count < options.pipelineDepth {
            guard let (family, key, id) = nextRequest(&random) else {
                keysExhausted = true
                break
            }
            let sample = verifier != nil && family.hasID && random.next() < verifyThreshold
            do throws(HiredisError) {
                try connection.append(["GET", key])
            } catch {
                lost(slot, &clients)
                return
            }
            clients.pending[slot].append(Pending(family: family, id: id, sample: sample, sentAt: sentAt))
            added += 1
        }
        guard added > 0 else { return }
        do throws(HiredisError) {
            try connection.flush()
        } catch {
            lost(slot, &clients)
        }
    }

    /// A Zipf draw, or in `miss-only` mode the next never-requested key (nil: none left).
    private func nextRequest(_ random: inout SplitMix64) -> (KeyFamily, String, Int)? {
        guard let distinctKeys else { return chooser.next(&random) }
        return distinctKeys.next().map { ($0.family, $0.key, $0.id) }
    }

    private func lost(_ slot: Int, _ clients: inout Clients) {
        stats.recordError("connection")
        clients.connections[slot] = nil
        clients.pending[slot].removeAll()
        clients.lostAt = clients.lostAt ?? ContinuousClock.now
    }

    private func reconnect(_ clients: inout Clients) {
        clients.lostAt = nil
        for slot in clients.connections.indices where clients.connections[slot] == nil && !stop.isRaised {
            clients.connections[slot] = try? HiredisConnection(host: options.host, port: options.port, timeoutSeconds: 2)
            if clients.connections[slot] == nil {
                stats.recordError("connect")
                clients.lostAt = ContinuousClock.now
            }
        }
    }

    private static func kind(_ reply: GetReply) -> Outcome.Kind {
        switch reply {
        case .value: return .value
        case .null: return .null
        case let .error(text):
            return .error(String(text.prefix { $0 != " " }))
        case .other: return .error("unexpected_reply")
        }
    }
}
