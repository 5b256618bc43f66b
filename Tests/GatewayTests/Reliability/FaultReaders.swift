import Foundation
import Synchronization
import TestSupport

/// Clients that keep reading random listings through a fault, so that a test can report
/// what clients saw: replies, errors by kind, the error window and the slowest reply.
final class FaultReaders: Sendable {
    struct Report: CustomStringConvertible {
        var replies = 0
        var errors: [String: Int] = [:]
        var firstError: Date?
        var lastError: Date?
        var slowestSeconds = 0.0

        var errorCount: Int { errors.values.reduce(0, +) }
        /// From the first failed reply to the last one (0 when none failed).
        var errorWindowSeconds: Double {
            guard let firstError, let lastError else { return 0 }
            return lastError.timeIntervalSince(firstError)
        }

        var description: String {
            "replies=\(replies) errors=\(errors) error_window_s=\(String(format: "%.3f", errorWindowSeconds)) "
                + "slowest_s=\(String(format: "%.3f", slowestSeconds))"
        }
    }

    private let state = ReaderState()
    private let workers: BackgroundWorkers

    /// Starts `count` readers of `listing:1…rows` on the gateway at `port`.
    init(count: Int, rows: Int, port: Int) {
        workers = BackgroundWorkers(count: count) { [state] worker in
            let client = try RedisTestClient(port: port)
            var random = SeededRandom(seed: UInt64(worker) + 500)
            var done = 0
            while !state.stopped.load(ordering: .relaxed) && done < 1_000_000 {
                let id = Int(random.next() % UInt64(rows)) + 1
                let started = Date()
                let reply = try client.command("GET", "listing:\(id)")
                let elapsed = Date().timeIntervalSince(started)
                done += 1
                state.record(reply, elapsed: elapsed)
            }
        }
    }

    /// Stops the readers and returns what they saw.
    func finish() throws -> Report {
        state.stopped.store(true, ordering: .relaxed)
        try workers.join()
        return state.report.withLock { $0 }
    }
}

/// What the readers share: the stop flag and the tally.
private final class ReaderState: Sendable {
    let stopped = Atomic<Bool>(false)
    let report = Mutex(FaultReaders.Report())

    func record(_ reply: RedisTestClient.Reply, elapsed: Double) {
        report.withLock {
            $0.replies += 1
            $0.slowestSeconds = max($0.slowestSeconds, elapsed)
            if case .error(let message) = reply {
                let kind = String(message.prefix { $0 != " " })
                $0.errors[kind, default: 0] += 1
                let now = Date()
                if $0.firstError == nil { $0.firstError = now }
                $0.lastError = now
            }
        }
    }
}
