/// Points where tests can pause the invalidation listener, to make races with it
/// deterministic. Production passes the empty default (one nil check per batch).
public struct InvalidationHooks: Sendable {
    /// Runs on the listener's thread before it applies a batch of committed writes to
    /// Redis (their position is confirmed only after). Blocking here keeps it busy.
    public var beforeApply: (@Sendable () -> Void)?

    public init(beforeApply: (@Sendable () -> Void)? = nil) {
        self.beforeApply = beforeApply
    }
}
