import NIOCore

/// The replies one event loop's clients await from Redis and PostgreSQL, counted in bytes
/// (each request at its client's reply estimate), and the clients whose requests wait for
/// room, in turn. All of a loop's clients share its Redis connection, which answers in
/// order: without a bound, clients that pipeline thousands of requests put them all ahead
/// of everyone else's next GET, and past the command timeout the connection is reset for
/// every client. With it, a GET waits at most for `capacity` bytes of other replies.
///
/// A client owing no reply may always run a request, so a client that sends one request at a
/// time never waits in the queue; the others take turns as replies free room. Pure: the
/// handler (`LoopAdmission`) schedules the resumption this returns and runs the waiters.
struct InFlightAdmission<Waiter> {
    let capacity: Int
    private(set) var inFlightBytes = 0
    private var waiting = CircularBuffer<Waiter>()
    private var resumeScheduled = false

    init(capacity: Int) {
        self.capacity = capacity
    }

    var hasRoom: Bool { inFlightBytes < capacity }
    var waitingCount: Int { waiting.count }

    /// Whether a client owing `pendingReplies` replies may run another request now.
    func admits(pendingReplies: Int) -> Bool {
        pendingReplies == 0 || hasRoom
    }

    mutating func charge(_ bytes: Int) {
        inFlightBytes += bytes
    }

    /// Replies of `bytes` arrived: returns whether to schedule `resumeWaiters` (room freed
    /// while clients wait, and no resumption is scheduled yet).
    mutating func release(_ bytes: Int) -> Bool {
        inFlightBytes = max(0, inFlightBytes - bytes)
        guard hasRoom && !waiting.isEmpty && !resumeScheduled else { return false }
        resumeScheduled = true
        return true
    }

    /// `waiter` found no room: it gets its turn after those already waiting.
    mutating func wait(_ waiter: Waiter) {
        waiting.append(waiter)
    }

    /// The scheduled resumption runs: call `nextWaiter` until it returns nil.
    mutating func resumptionStarted() {
        resumeScheduled = false
    }

    /// The next client to run its requests, while there is room.
    mutating func nextWaiter() -> Waiter? {
        guard hasRoom else { return nil }
        return waiting.popFirst()
    }
}
