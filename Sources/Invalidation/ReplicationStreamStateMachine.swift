import Postgres

/// Every decision of the invalidation listener, with none of its I/O: which transactions a
/// batch holds, when it goes to Redis, how many batches may be on their way, which position
/// may be confirmed to PostgreSQL and when, when an apply took too long, when the stream is
/// caught up, how long to wait before reconnecting. The listener's thread feeds it what it
/// read, what Redis answered and the time, and runs the actions it returns. Pure, so every
/// race of the stream is a unit test.
///
/// The guarantee: a position is confirmed only once every write before it in the stream has
/// been applied, so a failure, a time-out or a restart replays whatever was not.
///
/// Forward progress, whatever a transaction's size and however busy the machine: no Redis
/// call waits behind more than `keysInFlight` keys of others, a transaction past
/// `flushFamiliesAboveKeys` becomes a flush of its families (its cost bounded by what Redis
/// holds, not by the write), and an apply is given up only when it stopped progressing for
/// `applyTimeLimit`, never for being long. Transactions streamed again are counted, so that a
/// replay loop would show.
package struct ReplicationStreamStateMachine: BatchAnswers {
    package typealias Instant = ContinuousClock.Instant

    package struct Limits: Sendable {
        /// Keys read into one batch before it is sent, and sent in one apply at most.
        package var keysPerApply = 20_000
        /// Batches on their way to Redis before the listener waits for the oldest.
        package var appliesInFlight = 16
        /// Keys on their way to Redis at once (a batch is sent whatever its size when none is).
        /// Redis runs the calls one after another: a call queued behind too many keys would
        /// pass its command timeout, and the whole transaction would be streamed again.
        package var keysInFlight = 20_000
        /// Keys of one transaction beyond which its families are flushed instead.
        package var flushFamiliesAboveKeys = InvalidationSettings.defaultFlushFamiliesAboveKeys
        /// How long an apply may go without Redis finishing any of its calls before the stream
        /// is given up (Redis calls time out sooner on their own; this bounds the wait whatever
        /// happens). A long apply that keeps progressing, a flush of a large Redis, is not cut.
        package var applyTimeLimit: Duration = .seconds(15)
        /// How often the confirmed position is reported while it moves, and while idle.
        package var feedbackInterval: Duration = .milliseconds(100)
        package var idleFeedbackInterval: Duration = .seconds(10)
        /// How long the server may send nothing before the stream is given up as dead
        /// (`SilenceWatch`); half way, a status update asks the walsender to answer at once.
        package var silenceLimit: Duration = .seconds(InvalidationSettings.defaultListenerTimeoutSeconds)

        package init() {}
    }

    package enum Action: Equatable {
        /// The slot is new: what was written before it is unknown, so drop every cached key.
        case flushAll(reason: String)
        /// Log that the listener is connected again after a reported error.
        case reportConnectedAgain
        /// Ignore (and log) a message of ours whose content could not be read.
        case logMalformed(String)
        /// Count invalidation messages received.
        case countMessages(Int)
        /// Send these writes to Redis; report `applied` or `failed` with the batch's number.
        case apply(batch: Int, writes: [InvalidationWrite])
        /// Drop every key of these families (a transaction over `flushFamiliesAboveKeys`);
        /// report `applied` or `failed` with the batch's number.
        case flushFamilies(batch: Int, FamilyFlush)
        /// Count transactions streamed again after the listener had received them (a replay).
        case countReplays(Int)
        /// Every place for a batch on its way is taken: block until this batch is applied or
        /// `deadline` passes, then report it (or the time).
        case waitForApply(batch: Int, deadline: Instant)
        /// Send a standby status update confirming `position` (PostgreSQL may then drop what
        /// precedes it from the slot).
        case sendStatusUpdate(confirming: UInt64)
        /// Send a status update confirming `position` that asks the server to reply at once
        /// (nothing was heard for half of `silenceLimit`).
        case ping(confirming: UInt64)
        /// The stream passed the server's position at the connection: every write committed
        /// before it is invalidated. `replayedKeys` is set when the slot was resumed.
        case caughtUp(replayedKeys: Int?)
        /// Give up this stream (close the connection); it is streamed again from the last
        /// confirmed position.
        case abandonStream(reason: String)
        /// Connect again after `delay`; `report` is the error to log (nil: already logged).
        case reconnect(after: Duration, report: String?)
    }

    /// What one connection's stream has read, sent and confirmed.
    private struct Stream {
        var transactions: InvalidationTransactions
        var pending = PendingApplies()
        /// Slices read and not yet sent (all places for batches on their way are taken);
        /// `work` nil for a position with nothing to apply.
        var waiting: [(work: Work?, position: UInt64?)] = []
        var batch: [InvalidationWrite] = []
        var batchFlush = FamilyFlush()
        var replays = 0
        var batchKeys = 0
        var batchMessages = 0
        var batchEnd: UInt64?
        var replyRequested = false
        var confirmed: UInt64 = 0
        var lastFeedback: Instant
        var silence: SilenceWatch
        var heardSinceInput = false
        var catchingUp = true
        let caughtUpAt: UInt64
        let resumed: Bool
        var replayedKeys = 0
    }

    /// What one slice sends to Redis.
    private enum Work {
        case writes([InvalidationWrite])
        case flush(FamilyFlush)
    }

    private let limits: Limits
    private var stream: Stream?
    private var nextBatch = 0
    private var backoff: ReconnectBackoff
    /// The end of the latest transaction received, across connections: one that ends at or
    /// before it was streamed again.
    private var receivedThrough: UInt64 = 0

    package init(limits: Limits = Limits(), backoff: ReconnectBackoff = ReconnectBackoff()) {
        self.limits = limits
        self.backoff = backoff
    }

    // MARK: - Connection

    /// The slot was found or made on a new connection.
    package func slotPrepared(_ preparation: ReplicationSlot.Preparation, slot: String) -> [Action] {
        switch preparation {
        case .resumed:
            return []
        case .created(let replacedLost):
            return [.flushAll(reason: replacedLost
                ? "PostgreSQL dropped the WAL of replication slot \(slot); it was made again"
                : "new replication slot \(slot): writes made before it are unknown")]
        }
    }

    /// Streaming started; `caughtUpAt` is the server's WAL position just before, and
    /// `resumed` says whether the slot held writes from before this connection.
    package mutating func streamStarted(resumed: Bool, caughtUpAt: UInt64, now: Instant) -> [Action] {
        stream = Stream(transactions: InvalidationTransactions(flushAboveKeys: limits.flushFamiliesAboveKeys),
                        lastFeedback: now, silence: SilenceWatch(limit: limits.silenceLimit, now: now), caughtUpAt: caughtUpAt, resumed: resumed)
        return []
    }

    /// The connection failed (or could not be made, or the stream was abandoned): what was
    /// not confirmed is streamed again after the next connection.
    package mutating func connectionLost(reason: String) -> [Action] {
        stream = nil
        let (delay, report) = backoff.failed(reason: reason)
        return [.reconnect(after: delay, report: report)]
    }

    /// The stream ends (the gateway stops, or the connection is about to be dropped):
    /// confirm what was applied, so that the next start does not replay it.
    package mutating func streamEnded() -> [Action] {
        guard let stream else { return [] }
        self.stream = nil
        let applied = stream.pending.appliedPosition
        return applied > stream.confirmed ? [.sendStatusUpdate(confirming: applied)] : []
    }

    // MARK: - Reading

    /// One decoded message of the stream. Nothing is sent until `inputRead`.
    package mutating func received(_ message: ReplicationMessage) {
        guard var stream = self.stream else { return }
        self.stream = nil  // keeps the batch uniquely referenced while appending
        defer { self.stream = stream }
        stream.heardSinceInput = true
        switch message {
        case .keepalive(let walEnd, let replyRequested):
            stream.replyRequested = stream.replyRequested || replyRequested
            // Every transaction that committed before walEnd was sent before this keepalive:
            // once those are applied, the position is safe to confirm.
            if !stream.transactions.inTransaction { stream.batchEnd = max(stream.batchEnd ?? 0, walEnd) }
        case .data(_, let payload):
            guard let completed = stream.transactions.receive(payload) else { return }
            stream.batchMessages += stream.transactions.takeCompletedMessages()
            stream.batch += completed.writes
            stream.batchKeys += completed.writes.reduce(0) { $0 + $1.keys.count }
            if let flush = completed.flush { stream.batchFlush.merge(flush) }
            if let end = completed.endLSN {
                stream.batchEnd = max(stream.batchEnd ?? 0, end)
                if end <= receivedThrough { stream.replays += 1 } else { receivedThrough = end }
            }
        }
    }

    /// True while the batch being read has room: read on if the socket holds more.
    package var wantsMoreInput: Bool { (stream?.batchKeys ?? 0) < limits.keysPerApply }

    /// What the socket held has been read: send the batch (in slices of at most
    /// `keysPerApply` keys, as many as there are places for).
    package mutating func inputRead(now: Instant) -> [Action] {
        guard var stream = self.stream else { return [] }
        self.stream = nil
        defer { self.stream = stream }
        stream.silence.read(now: now, heard: stream.heardSinceInput)
        stream.heardSinceInput = false
        var actions = stream.transactions.takeMalformed().map { Action.logMalformed($0) }
        if stream.batchMessages > 0 { actions.append(.countMessages(stream.batchMessages)) }
        if stream.replays > 0 { actions.append(.countReplays(stream.replays)) }
        stream.replays = 0
        var batch = stream.batch
        // The batch's position goes with its last slice: confirmed once the flush (sent first,
        // order does not matter between unlinks) and every slice are applied.
        if !stream.batchFlush.isEmpty {
            stream.waiting.append((.flush(stream.batchFlush), batch.isEmpty ? stream.batchEnd : nil))
            stream.batchFlush = FamilyFlush()
        } else if batch.isEmpty, let end = stream.batchEnd {
            stream.waiting.append((nil, end))
        }
        if !batch.isEmpty {
            if stream.catchingUp {
                // Replayed writes measure how long the gateway was away, not invalidation lag.
                stream.replayedKeys += stream.batchKeys
                batch = batch.map { InvalidationWrite(keys: $0.keys, transactionID: $0.transactionID, committedMicroseconds: nil) }
            }
            queueSlices(of: batch, confirming: stream.batchEnd, in: &stream)
        }
        stream.batch = []
        stream.batchKeys = 0
        stream.batchMessages = 0
        stream.batchEnd = nil
        send(&stream, now: now, into: &actions)
        return actions
    }

    /// Slices of about `keysPerApply` keys (a bulk statement or a backlog must not time out
    /// as a whole); the last one carries the position.
    private func queueSlices(of writes: [InvalidationWrite], confirming position: UInt64?, in stream: inout Stream) {
        var start = writes.startIndex
        while start < writes.endIndex {
            var end = start
            var keys = 0
            while end < writes.endIndex && (end == start || keys + writes[end].keys.count <= limits.keysPerApply) {
                keys += writes[end].keys.count
                end += 1
            }
            stream.waiting.append((.writes(Array(writes[start..<end])), end == writes.endIndex ? position : nil))
            start = end
        }
    }

    /// Sends waiting slices while there are places; asks to wait for the oldest batch when not.
    private mutating func send(_ stream: inout Stream, now: Instant, into actions: inout [Action]) {
        var sent = 0
        slices: for slice in stream.waiting {
            switch slice.work {
            case .writes(let writes):
                let keys = writes.reduce(0) { $0 + $1.keys.count }
                guard stream.pending.batchCount < limits.appliesInFlight,
                      stream.pending.keysInFlight == 0 || stream.pending.keysInFlight + keys <= limits.keysInFlight
                else { break slices }
                stream.pending.add(batch: nextBatch, keys: keys, sentAt: now, confirming: slice.position)
                actions.append(.apply(batch: nextBatch, writes: writes))
                nextBatch += 1
            case .flush(let flush):
                // One short Redis call at a time (a SCAN step), so it takes a place but no keys.
                guard stream.pending.batchCount < limits.appliesInFlight else { break slices }
                stream.pending.add(batch: nextBatch, sentAt: now, confirming: slice.position)
                actions.append(.flushFamilies(batch: nextBatch, flush))
                nextBatch += 1
            case nil:
                if let position = slice.position { stream.pending.add(confirming: position, at: now) }
            }
            sent += 1
        }
        stream.waiting.removeFirst(sent)
        if !stream.waiting.isEmpty, let oldest = stream.pending.oldest {
            actions.append(.waitForApply(batch: oldest.batch, deadline: oldest.movedAt + limits.applyTimeLimit))
        }
    }

    // MARK: - Redis's answers

    /// Redis applied `batch`: later positions may be confirmed once the batches before them are too.
    package mutating func applied(batch: Int, now: Instant) -> [Action] {
        guard var stream = self.stream, stream.pending.markApplied(batch: batch) else { return [] }
        self.stream = nil
        defer { self.stream = stream }
        var actions: [Action] = []
        if !stream.waiting.isEmpty { send(&stream, now: now, into: &actions) }
        return actions
    }

    /// Redis did not apply `batch`: nothing after it may be confirmed; stream it again.
    package mutating func failed(batch: Int, reason: String) -> [Action] {
        guard let stream, stream.pending.isWaiting(for: batch) else { return [] }
        return [.abandonStream(reason: reason)]
    }

    /// Redis finished more calls of `batch`: its time limit starts again.
    package mutating func progressed(batch: Int, now: Instant) {
        guard var stream = self.stream else { return }
        self.stream = nil
        stream.pending.progressed(batch: batch, at: now)
        self.stream = stream
    }

    /// Whether batches are on their way (the listener then looks for their answers often).
    package var hasBatchesInFlight: Bool { !(stream?.pending.isEmpty ?? true) }

    // MARK: - Time

    /// Time passed: gives up on an apply past its limit or on a server silent for
    /// `silenceLimit`, reports catching up, and confirms the applied position when a reply
    /// was requested, when it moved (at most every `feedbackInterval`) or when nothing was
    /// confirmed for `idleFeedbackInterval`; pings a server silent for half the limit.
    package mutating func timePassed(now: Instant) -> [Action] {
        guard var stream = self.stream else { return [] }
        if let oldest = stream.pending.oldest, now > oldest.movedAt + limits.applyTimeLimit {
            return [.abandonStream(reason: InvalidationError.timedOut.description)]
        }
        let silence = stream.silence.verdict(now: now)
        if case .giveUp(let reason) = silence {
            self.stream = stream
            return [.abandonStream(reason: reason + " (invalidation.listener_timeout_seconds)")]
        }
        self.stream = nil
        defer { self.stream = stream }
        var actions: [Action] = []
        let applied = stream.pending.appliedPosition
        if stream.catchingUp && applied >= stream.caughtUpAt {
            stream.catchingUp = false
            // The wait before reconnecting starts over only now: a stream that starts and cannot
            // apply (Redis down or silent) is no success, and reconnecting every 50 ms would
            // stream everything unconfirmed again as often.
            if backoff.connected() { actions.append(.reportConnectedAgain) }
            actions.append(.caughtUp(replayedKeys: stream.resumed ? stream.replayedKeys : nil))
        }
        let sinceFeedback = now - stream.lastFeedback
        if applied > 0 && (stream.replyRequested || (applied > stream.confirmed && sinceFeedback >= limits.feedbackInterval)
                           || sinceFeedback >= limits.idleFeedbackInterval) {
            actions.append(.sendStatusUpdate(confirming: applied))
            stream.confirmed = applied
            stream.lastFeedback = now
            stream.replyRequested = false
        }
        if silence == .ping {
            actions.append(.ping(confirming: max(applied, stream.confirmed)))
            stream.confirmed = max(applied, stream.confirmed)
            stream.lastFeedback = now
        }
        return actions
    }
}
