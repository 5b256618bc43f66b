import Synchronization

/// Set once when a service has started (with what it started, e.g. its bound port) or
/// cannot start; awaited by whoever must start after it. Lets services in one
/// `ServiceGroup`, which starts them all at once, keep the gateway's start-up order.
final class StartupEvent<Value: Sendable>: Sendable {
    private struct State {
        var result: Result<Value, any Error>?
        var waiters: [Int: CheckedContinuation<Value, any Error>] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    func succeed(_ value: Value) { complete(.success(value)) }

    /// Does nothing once the event is set: the first outcome stands.
    func fail(_ error: any Error) { complete(.failure(error)) }

    /// The outcome, once set; throws `CancellationError` if the waiting task is cancelled first.
    func value() async throws -> Value {
        let waiter = state.withLock { state -> Int in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let result = state.withLock { state -> Result<Value, any Error>? in
                    if let result = state.result { return result }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.waiters[waiter] = continuation
                    return nil
                }
                if let result { continuation.resume(with: result) }
            }
        } onCancel: {
            let continuation = state.withLock { $0.waiters.removeValue(forKey: waiter) }
            continuation?.resume(throwing: CancellationError())
        }
    }

    private func complete(_ result: Result<Value, any Error>) {
        let waiters = state.withLock { state -> [CheckedContinuation<Value, any Error>] in
            guard state.result == nil else { return [] }
            state.result = result
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(with: result) }
    }
}
