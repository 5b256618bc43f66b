import Synchronization

/// Process-wide counters behind `INFO` (and later the metrics endpoint).
/// Lock-free so that the hit path pays one relaxed atomic add per command.
public final class ServerStats: Sendable {
    public let startedAt: ContinuousClock.Instant = .now
    let connectionsReceived = Atomic<Int>(0)
    let rejectedConnections = Atomic<Int>(0)
    let commandsProcessed = Atomic<Int>(0)
    let protocolErrors = Atomic<Int>(0)
    let errorReplies = Atomic<Int>(0)
    let authFailures = Atomic<Int>(0)
    let requestTimeouts = Atomic<Int>(0)

    public init() {}

    public var totalConnectionsReceived: Int { connectionsReceived.load(ordering: .relaxed) }
    public var totalRejectedConnections: Int { rejectedConnections.load(ordering: .relaxed) }
    public var totalCommandsProcessed: Int { commandsProcessed.load(ordering: .relaxed) }
    public var totalProtocolErrors: Int { protocolErrors.load(ordering: .relaxed) }
    public var totalErrorReplies: Int { errorReplies.load(ordering: .relaxed) }
    public var totalAuthFailures: Int { authFailures.load(ordering: .relaxed) }
    public var totalRequestTimeouts: Int { requestTimeouts.load(ordering: .relaxed) }

    /// Whole seconds since the server started.
    public var uptimeSeconds: Int {
        Int((ContinuousClock.now - startedAt).components.seconds)
    }
}
