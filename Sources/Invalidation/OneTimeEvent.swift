import Synchronization

/// Something that happens once on the listener's thread (its first catch-up, its exit),
/// awaited from async code without blocking a thread: waiters are continuations, resumed
/// when it happens (at once if it already has).
package final class OneTimeEvent: Sendable {
    private enum State {
        case pending([CheckedContinuation<Void, Never>])
        case happened
    }

    private let state = Mutex(State.pending([]))

    package init() {}

    /// Marks the event as happened and resumes every waiter; later calls do nothing.
    package func signal() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard case .pending(let waiters) = state else { return [] }
            state = .happened
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the event has happened.
    package func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let happened = state.withLock { state -> Bool in
                guard case .pending(var waiters) = state else { return true }
                waiters.append(continuation)
                state = .pending(waiters)
                return false
            }
            if happened { continuation.resume() }
        }
    }
}
