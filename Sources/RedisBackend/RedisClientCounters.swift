import Synchronization

/// Round trips and transport failures of a `RedisClient`, for metrics and `INFO`.
public final class RedisClientCounters: Sendable {
    let sent = Atomic<Int>(0)
    let failed = Atomic<Int>(0)

    init() {}

    /// Commands sent (each is one round trip, pipelined or not).
    public var commandsSent: Int { sent.load(ordering: .relaxed) }
    /// Commands that failed without a reply (connection lost, timeout, refused while reconnecting).
    public var commandsFailed: Int { failed.load(ordering: .relaxed) }
}
