import CacheModel

/// Every decision of the notify listener, with none of its I/O: the flush after each
/// (re)connection, what goes to Redis and when, when an apply took too long, how long to
/// wait before reconnecting. The listener's thread feeds it the payloads it read, what Redis
/// answered and the time, and runs the actions it returns. Pure, so its races are unit tests.
///
/// The guarantee: notifications sent while no connection listened are lost, so each
/// connection first listens, then flushes every family, and only then counts as caught up;
/// an apply that fails or times out drops the connection, which brings the flush again.
package struct NotifyListenerStateMachine: BatchAnswers {
    package typealias Instant = ContinuousClock.Instant

    package struct Limits: Sendable {
        /// Keys sent in one apply at most (the rest go in the next).
        package var keysPerApply = 20_000
        /// Batches on their way to Redis at once: a notification arriving while one is applied
        /// goes out at once instead of waiting a round trip (unlinking is idempotent and the
        /// writers are recorded per key, so their order does not matter).
        package var appliesInFlight = 8
        /// Keys on their way to Redis at once (a batch goes whatever its size when none is).
        package var keysInFlight = 20_000
        /// How long an apply may go without Redis finishing any of its calls before the
        /// connection is given up; one that keeps progressing (a flush of a large Redis) is not cut.
        package var applyTimeLimit: Duration = .seconds(15)

        package init() {}
    }

    package enum Action: Equatable {
        /// Drop every cached key (and detach every fill): writes made before the LISTEN are
        /// unknown. Report `flushed()` once done; a failure is a lost connection.
        case flushAll(reason: String)
        /// Log that the listener is connected again after a reported error.
        case reportConnectedAgain
        /// Every write committed before the LISTEN is invalidated: ready.
        case caughtUp
        /// Ignore (and log) a payload that could not be read; its transaction's families are flushed.
        case logMalformed(String)
        /// Count notifications received.
        case countMessages(Int)
        /// Send these writes to Redis; report `applied` or `failed` with the batch's number.
        case apply(batch: Int, writes: [InvalidationWrite])
        /// Drop every key of these families (a statement with too many keys to list).
        case flushFamilies(batch: Int, FamilyFlush)
        /// Give up this connection (a batch failed or took too long).
        case abandon(reason: String)
        /// Connect again after `delay`; `report` is the error to log (nil: already logged).
        case reconnect(after: Duration, report: String?)
    }

    /// One connection's state, from its LISTEN on.
    private struct Session {
        var caughtUp = false
        var writes: [InvalidationWrite] = []
        var flush = FamilyFlush()
        var messages = 0
        var malformed: [String] = []
        /// Batches on their way: when each was sent or last progressed, and its keys.
        var inFlight: [Int: (movedAt: Instant, keys: Int)] = [:]
        var keysInFlight: Int { inFlight.values.reduce(0) { $0 + $1.keys } }
    }

    private let limits: Limits
    private var session: Session?
    private var nextBatch = 0
    private var listenedBefore = false
    private var backoff: ReconnectBackoff

    package init(limits: Limits = Limits(), backoff: ReconnectBackoff = ReconnectBackoff()) {
        self.limits = limits
        self.backoff = backoff
    }

    // MARK: - Connection

    /// A new connection runs `LISTEN`: what was sent before is unknown.
    package mutating func listening() -> [Action] {
        session = Session()
        let reason = listenedBefore
            ? "the listener reconnected: notifications sent while it was away are lost"
            : "listening from now: writes made before are unknown"
        listenedBefore = true
        return [.flushAll(reason: reason)]
    }

    /// The flush after `listening()` is done: caught up; what arrived meanwhile goes out.
    package mutating func flushed(now: Instant) -> [Action] {
        guard var session else { return [] }
        self.session = nil
        defer { self.session = session }
        session.caughtUp = true
        // The wait before reconnecting starts over only now: a connection whose flush fails (Redis
        // down) is no success, and reconnecting every 50 ms would flush and detach fills as often.
        var actions: [Action] = (backoff.connected() ? [.reportConnectedAgain] : []) + [.caughtUp]
        send(&session, now: now, into: &actions)
        return actions
    }

    /// The connection failed, could not be made, or was abandoned.
    package mutating func connectionLost(reason: String) -> [Action] {
        session = nil
        let (delay, report) = backoff.failed(reason: reason)
        return [.reconnect(after: delay, report: report)]
    }

    // MARK: - Reading

    /// One notification's payload. Nothing is sent until `inputRead`.
    package mutating func received(_ payload: String) {
        guard var session else { return }
        self.session = nil  // keeps the arrays uniquely referenced while appending
        defer { self.session = session }
        session.messages += 1
        switch NotifyPayload.parse(payload) {
        case .keys(let write)?:
            session.writes.append(write)
        case .families(let families, let transactionID)?:
            session.flush.add(families, transactionID: transactionID)
        case nil:
            session.malformed.append(String(payload.prefix(200)))
            session.flush.add(Set(KeyFamily.allCases), transactionID: nil)
        }
    }

    /// What the socket held has been read: send it unless a batch is on its way.
    package mutating func inputRead(now: Instant) -> [Action] {
        guard var session else { return [] }
        self.session = nil
        defer { self.session = session }
        var actions = session.malformed.map { Action.logMalformed($0) }
        session.malformed = []
        if session.messages > 0 { actions.append(.countMessages(session.messages)) }
        session.messages = 0
        send(&session, now: now, into: &actions)
        return actions
    }

    /// Sends what waits while there are places (`appliesInFlight`, `keysInFlight`); what
    /// arrives while every place is taken makes the next batch bigger, not a queue.
    private mutating func send(_ session: inout Session, now: Instant, into actions: inout [Action]) {
        guard session.caughtUp else { return }
        while session.inFlight.count < limits.appliesInFlight {
            if !session.flush.isEmpty {
                actions.append(.flushFamilies(batch: nextBatch, session.flush))
                session.flush = FamilyFlush()
                session.inFlight[nextBatch] = (now, 0)
            } else if !session.writes.isEmpty {
                let room = session.inFlight.isEmpty ? limits.keysPerApply
                    : min(limits.keysPerApply, limits.keysInFlight - session.keysInFlight)
                var keys = 0
                var count = 0
                while count < session.writes.count && (count == 0 || keys + session.writes[count].keys.count <= room) {
                    keys += session.writes[count].keys.count
                    count += 1
                }
                guard session.inFlight.isEmpty || keys <= room else { return }
                actions.append(.apply(batch: nextBatch, writes: Array(session.writes.prefix(count))))
                session.writes.removeFirst(count)
                session.inFlight[nextBatch] = (now, keys)
            } else {
                return
            }
            nextBatch += 1
        }
    }

    // MARK: - Redis's answers

    /// Redis applied `batch`: send what waited for a place.
    package mutating func applied(batch: Int, now: Instant) -> [Action] {
        guard var session, session.inFlight[batch] != nil else { return [] }
        self.session = nil
        defer { self.session = session }
        session.inFlight[batch] = nil
        var actions: [Action] = []
        send(&session, now: now, into: &actions)
        return actions
    }

    /// Redis did not apply `batch`: its keys may still be cached; reconnect (and flush).
    package func failed(batch: Int, reason: String) -> [Action] {
        guard let session, session.inFlight[batch] != nil else { return [] }
        return [.abandon(reason: reason)]
    }

    /// Redis finished more calls of `batch`: its time limit starts again.
    package mutating func progressed(batch: Int, now: Instant) {
        guard session?.inFlight[batch] != nil else { return }
        session?.inFlight[batch]?.movedAt = now
    }

    /// Whether batches are on their way (the listener then looks for their answers often).
    package var hasApplyInFlight: Bool { !(session?.inFlight.isEmpty ?? true) }

    /// Time passed: gives up on an apply past its limit.
    package func timePassed(now: Instant) -> [Action] {
        guard let oldest = session?.inFlight.values.map(\.movedAt).min(), now > oldest + limits.applyTimeLimit else {
            return []
        }
        return [.abandon(reason: InvalidationError.timedOut.description)]
    }
}
