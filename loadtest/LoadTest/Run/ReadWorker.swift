import Foundation
import Synchronization

/// One reader thread: its share of the connections, each kept `depth` requests deep.
///
/// Per round it appends `depth` GETs to every connection, flushes them all, then reads
/// the replies back in order; a request's latency runs from its connection's flush to
/// its reply. A lost connection is counted and reopened after 100 ms.
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
        var family: LoadFamily
        var id: Int
        var sample: Bool
    }

    private func run() {
        var random = SplitMix64(seed: options.seed, stream: 0x5EAD, entity: UInt64(index))
        var connections: [HiredisConnection?] = (0..<connectionCount).map { _ in
            try? HiredisConnection(host: options.host, port: options.port)
        }
        var pending = [[Pending]](repeating: [], count: connectionCount)
        var started = [ContinuousClock.Instant](repeating: .now, count: connectionCount)
        var outcomes: [Outcome] = []
        let clock = ContinuousClock()
        let verifyThreshold = UInt64(options.verifyFraction * Double(UInt64.max >> 11)) << 11
        var keysExhausted = false
        while !stop.isRaised {
            outcomes.removeAll(keepingCapacity: true)
            for slot in 0..<connectionCount {
                pending[slot].removeAll(keepingCapacity: true)
                guard let connection = connections[slot] else { continue }
                for _ in 0..<options.pipelineDepth {
                    guard let (family, key, id) = nextRequest(&random) else {
                        keysExhausted = true
                        break
                    }
                    let sample = verifier != nil && family.isRowFamily && random.next() < verifyThreshold
                    connection.append(["GET", key])
                    pending[slot].append(Pending(family: family, id: id, sample: sample))
                }
                started[slot] = clock.now
                do throws(RunError) {
                    try connection.flush()
                } catch {
                    lost(slot, &connections, &pending)
                }
            }
            for slot in 0..<connectionCount {
                guard let connection = connections[slot] else { continue }
                for request in pending[slot] {
                    let reply: HiredisConnection.Reply
                    do throws(RunError) {
                        reply = try connection.readReply(capture: request.sample)
                    } catch {
                        lost(slot, &connections, &pending)
                        break
                    }
                    let elapsed = clock.now - started[slot]
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
            }
            let measured = stats.record(outcomes)
            if keysExhausted { stop.raise() }
            if measured > 0, let limit = options.requests {
                let total = measuredRequests.add(measured)
                if total >= limit { stop.raise() }
            }
            if connections.contains(where: { $0 == nil }) {
                Thread.sleep(forTimeInterval: 0.1)
                reconnect(&connections)
            }
        }
    }

    /// A Zipf draw, or in `miss-only` mode the next never-requested key (nil: none left).
    private func nextRequest(_ random: inout SplitMix64) -> (LoadFamily, String, Int)? {
        guard let distinctKeys else { return chooser.next(&random) }
        return distinctKeys.next().map { ($0.family, $0.key, $0.id) }
    }

    private func lost(_ slot: Int, _ connections: inout [HiredisConnection?], _ pending: inout [[Pending]]) {
        stats.recordError("connection")
        connections[slot] = nil
        pending[slot].removeAll()
    }

    private func reconnect(_ connections: inout [HiredisConnection?]) {
        for slot in connections.indices where connections[slot] == nil && !stop.isRaised {
            connections[slot] = try? HiredisConnection(host: options.host, port: options.port, timeoutSeconds: 2)
            if connections[slot] == nil { stats.recordError("connect") }
        }
    }

    private static func kind(_ reply: HiredisConnection.Reply) -> Outcome.Kind {
        switch reply {
        case .value: return .value
        case .null: return .null
        case let .error(text):
            return .error(String(text.prefix { $0 != " " }))
        case .other: return .error("unexpected_reply")
        }
    }
}
