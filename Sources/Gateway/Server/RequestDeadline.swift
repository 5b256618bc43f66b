import NIOCore

/// Slowloris protection: once a request has begun, it must arrive whole within `limit`
/// (reads that complete a request start the clock again, so a client pipelining without
/// pause is never cut). Pure: the handler reports reads and its timer with the time, and
/// keeps at most one timer per connection scheduled.
struct RequestDeadline {
    enum Action: Equatable {
        case none
        /// Schedule the (one) timer for this moment.
        case schedule(at: NIODeadline)
        /// The request did not arrive in time: close the connection.
        case close
    }

    let limit: TimeAmount
    /// When the bytes of the incomplete request began to arrive; nil with none pending.
    private var partialSince: NIODeadline?
    private var timerScheduled = false

    init(limit: TimeAmount) {
        self.limit = limit
    }

    /// A read was decoded: whether it completed requests, and whether bytes of an
    /// incomplete one remain.
    mutating func read(completedRequests: Bool, partialRemains: Bool, now: NIODeadline) -> Action {
        if completedRequests || !partialRemains { partialSince = nil }
        guard partialRemains else { return .none }
        let since = partialSince ?? now
        partialSince = since
        guard !timerScheduled else { return .none }
        timerScheduled = true
        return .schedule(at: since + limit)
    }

    /// The timer fired.
    mutating func timerFired(now: NIODeadline) -> Action {
        timerScheduled = false
        guard let since = partialSince else { return .none }
        if now >= since + limit { return .close }
        timerScheduled = true
        return .schedule(at: since + limit)
    }
}
