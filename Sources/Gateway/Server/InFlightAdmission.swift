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
    /// Misses being filled for this loop's clients, and how many may be.
    let maxMisses: Int
    private(set) var missesInFlight = 0
    private var waiting = CircularBuffer<Waiter>()
    private var resumeScheduled = false

    init(capacity: Int, maxMisses: Int = .max) {
        self.capacity = capacity
        self.maxMisses = maxMisses
    }

    /// A GET missed: returns whether its fill may start (else it is shed). Misses of clients
    /// that owe nothing else get past the room (`admits`), so only this bounds a flood of
    /// distinct misses from many connections.
    mutating func missStarts() -> Bool {
        guard missesInFlight < maxMisses else { return false }
        missesInFlight += 1
        return true
    }

    mutating func missEnded() {
        missesInFlight = max(0, missesInFlight - 1)
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
