/// Points where tests can pause the invalidation listener, to make the doorbell's races
/// deterministic. Production passes the empty default (one nil check per wake-up).
public struct InvalidationHooks: Sendable {
    /// Runs on the listener's thread right after it woke up and released its doorbell lock
    /// (writers now skip NOTIFY), before it reads the outbox again. Blocking here keeps the
    /// listener awake and busy.
    public var afterWake: (@Sendable () -> Void)?

    public init(afterWake: (@Sendable () -> Void)? = nil) {
        self.afterWake = afterWake
    }
}
