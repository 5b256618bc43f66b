import Dispatch

extension Duration {
    /// The same span for Dispatch's waits (rounded down to nanoseconds, negative as zero).
    var dispatchInterval: DispatchTimeInterval {
        let (seconds, attoseconds) = components
        return .nanoseconds(Int(max(0, seconds * 1_000_000_000 + attoseconds / 1_000_000_000)))
    }
}
