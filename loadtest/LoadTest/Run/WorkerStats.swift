import Synchronization

/// The shared half of one worker: the progress sampler takes its one-second window and
/// the runner its measured totals, each under the mutex the worker holds once per batch.
final class WorkerStats: Sendable {
    private struct State: Sendable {
        var interval = TrafficWindow()
        var total = TrafficWindow()
        var measuring = false
    }

    private let state = Mutex(State())

    /// Records a batch; returns how many of it were measured.
    func record(_ outcomes: [Outcome]) -> Int {
        state.withLock { state in
            for outcome in outcomes {
                Self.add(outcome, to: &state.interval)
                if state.measuring { Self.add(outcome, to: &state.total) }
            }
            return state.measuring ? outcomes.count : 0
        }
    }

    /// Errors that belong to no request (a lost connection).
    func recordError(_ kind: String) {
        state.withLock { state in
            state.interval.errors[kind, default: 0] += 1
            if state.measuring { state.total.errors[kind, default: 0] += 1 }
        }
    }

    /// Ends the warm-up: totals start from zero now.
    func startMeasuring() {
        state.withLock { state in
            state.total.reset()
            state.measuring = true
        }
    }

    /// The window since the last call, and a fresh one in its place.
    func takeInterval() -> TrafficWindow {
        state.withLock { state in
            let window = state.interval
            state.interval.reset()
            return window
        }
    }

    var total: TrafficWindow { state.withLock { $0.total } }

    private static func add(_ outcome: Outcome, to window: inout TrafficWindow) {
        _ = window.latency.record(max(1, outcome.microseconds))
        window.requests += 1
        var tally = window.families[outcome.family] ?? FamilyTally()
        tally.requests += 1
        switch outcome.kind {
        case .value: tally.values += 1
        case .null: tally.nulls += 1
        case let .error(kind):
            tally.errors += 1
            window.errors[kind, default: 0] += 1
        }
        window.families[outcome.family] = tally
    }
}
