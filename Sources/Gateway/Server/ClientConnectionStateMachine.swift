import NIOCore
import RESP

/// The decisions of one client connection, without any I/O: the order of its replies, when it
/// stops and resumes reading (back-pressure), when its replies are flushed, and how it closes.
///
/// `ClientConnectionHandler` turns every event (a request run, a backend's reply, a `read`, a
/// writability change, a drain, …) into one call here and runs the action it gets back, as
/// `LoopConnection` runs the Redis client's `ConnectionStateMachine`; the tests drive every
/// transition without a channel. Every reply owed to the client is a *pending reply* with a
/// sequence number in request order: one that a backend has not produced yet holds back every
/// reply after it. `AwaitedGet` is what the handler needs to finish a GET when Redis answers it
/// (its `PendingGet` in production, an `Int` in tests).
///
/// States: `open` → `closing` (QUIT, a protocol error or a graceful drain: no more requests are
/// run; the replies still owed go out) → `closingAfterWrites` (everything is written; waiting
/// for the socket to take it) → `lingering` (output closed; input is read and dropped until
/// the client closes). `closeAfterPendingWrites` is asked for at most once per connection: a
/// second half-close would fail and close the connection before the client has read its replies.
struct ClientConnectionStateMachine<AwaitedGet> {
    enum State: Equatable {
        case open
        /// No more requests are run; the close follows the last reply owed.
        case closing
        /// Everything owed is written; the handler closes once it has reached the socket.
        case closingAfterWrites
        /// Output closed; input is dropped until the client closes or the linger timeout.
        case lingering
    }

    /// A reply owed to the client that cannot be written yet.
    enum PendingReply {
        /// A backend is producing it (a deferred command, or a GET's miss being filled).
        case waiting
        /// A GET whose Redis reply comes back through `backendReplied(sequence:)`.
        case awaitingBackend(AwaitedGet)
        /// Ready, held back by an earlier reply that is not.
        case ready(RESPValue)
    }

    /// What to do with a reply that a request (or bad input) produced at once.
    enum AnswerAction: Equatable {
        /// Append it to the output: no earlier reply is owed.
        case write(RESPValue)
        /// Append it, then close once everything written has reached the socket.
        case writeThenCloseAfterPendingWrites(RESPValue)
        /// Nothing now: it waits behind an earlier reply (or the connection is already closing).
        case none
    }

    /// What to do when a pending reply is ready.
    enum ReadyAction: Equatable {
        /// Write the replies now in order: call `nextInOrder()` until it says `done`.
        case writeInOrder
        /// No such pending reply (already answered or dropped): nothing to do.
        case ignore
    }

    /// One step of writing the replies that are ready in request order.
    enum InOrderStep: Equatable {
        /// Append this reply to the output, then ask for the next step.
        case write(RESPValue)
        /// No more reply can be written yet.
        case done(AfterReplies)
    }

    /// What follows a run of replies written in order.
    struct AfterReplies: Equatable {
        enum Output: Equatable {
            case none
            /// Flush at the end of this event-loop tick (the loop's flush list).
            case scheduleFlush
            /// The last reply owed before closing is written: close once it has reached the socket.
            case closeAfterPendingWrites
        }

        var output: Output
        /// A held `read` may go on now.
        var resumeReading: Bool
    }

    enum ReadAction: Equatable {
        case read
        /// Hold the `read` until replies are written or the channel is writable again.
        case hold
    }

    enum DrainAction: Equatable {
        /// Nothing is owed: close once what is written has reached the socket.
        case closeAfterPendingWrites
        /// The close follows the last reply owed, or is already under way.
        case none
    }

    enum WritesCompletedAction: Equatable {
        /// Half-close (the client reads every reply, then the end of the stream), keep reading
        /// and dropping what it still sends, and close for good after the linger timeout.
        case closeOutputAndLinger
        /// The channel is gone already.
        case none
    }

    /// More replies owed than this stop the reading.
    let maxPendingReplies: Int
    /// Bytes owed against the soft output limit: past it, requests are not run or read.
    private(set) var outputBudget: ClientOutputBudget
    private(set) var state: State = .open
    /// Replies owed while an earlier one is not ready, in request order.
    private var pendingReplies = CircularBuffer<PendingReply>(initialCapacity: 4)
    /// Sequence number of `pendingReplies.first`.
    private var firstPendingSequence = 0
    /// A `read` was held back (back-pressure).
    private var readHeld = false
    private var channelIsWritable = true
    private var channelIsActive = true
    /// A flush is due at the end of the current event-loop tick.
    private var flushScheduled = false

    init(maxPendingReplies: Int, outputSoftLimit: Int = ClientBufferLimits.default.outputSoftBytes) {
        self.maxPendingReplies = maxPendingReplies
        self.outputBudget = ClientOutputBudget(softLimit: outputSoftLimit)
    }

    /// Replies owed behind one that is not ready yet (including it).
    var pendingReplyCount: Int { pendingReplies.count }

    /// Requests are decoded and run only while open.
    var acceptsRequests: Bool { state == .open }

    /// Whether another request read may run now: open, and the client reads its replies fast
    /// enough (its socket takes them, fewer than `maxPendingReplies` are owed, and the bytes
    /// owed stay under the soft output limit).
    var mayRunAnotherRequest: Bool {
        state == .open && channelIsWritable && !waitingForRoom && pendingReplies.count < maxPendingReplies
            && outputBudget.allowsAnotherRequest(pendingReplies: pendingReplies.count)
    }

    /// The event loop had no room for this client's next request (`InFlightAdmission`).
    private var waitingForRoom = false

    /// Requests read wait for room on the event loop: nothing more is read meanwhile.
    mutating func waitForRoom() {
        waitingForRoom = true
        readHeld = true
    }

    /// The loop has room again: returns whether held requests and reading may go on.
    mutating func roomGranted() -> Bool {
        waitingForRoom = false
        return resumeReadingIfPossible()
    }

    /// A request now awaits a backend: returns the bytes to charge the event loop.
    mutating func chargeInFlight() -> Int {
        outputBudget.charge()
    }

    /// An awaited GET missed: returns the bytes to add to the event loop's charge.
    mutating func chargeMiss() -> Int {
        outputBudget.chargeMiss()
    }

    /// An awaited reply arrived: returns the bytes to release on the event loop.
    mutating func releaseInFlight() -> Int {
        outputBudget.release()
    }

    /// The connection is gone: returns every byte still charged to the event loop.
    mutating func releaseAllInFlight() -> Int {
        outputBudget.releaseAll()
    }

    /// Input read while lingering is dropped.
    var discardsInput: Bool { state == .lingering }

    // MARK: - Requests

    /// A request (or bad input) produced `reply` at once; `thenClose` for QUIT and protocol errors.
    mutating func requestAnswered(_ reply: RESPValue, thenClose: Bool) -> AnswerAction {
        if thenClose { state = .closing }
        guard pendingReplies.isEmpty else {
            pendingReplies.append(.ready(reply))
            return .none
        }
        guard thenClose else { return .write(reply) }
        state = .closingAfterWrites
        return .writeThenCloseAfterPendingWrites(reply)
    }

    /// An out-of-band push (a tracking invalidation): written at once when no reply is owed,
    /// otherwise after the replies owed now, so that a value read before the invalidation
    /// never reaches the client after its push. It waits as a ready reply nobody awaits.
    mutating func pushArrived(_ push: RESPValue) -> AnswerAction {
        guard state == .open || (state == .closing && !pendingReplies.isEmpty) else { return .none }
        guard pendingReplies.isEmpty else {
            pendingReplies.append(.ready(push))
            return .none
        }
        return .write(push)
    }

    /// The input is not valid RESP: Redis answers with `reply`, then closes once the replies are out.
    mutating func protocolErrorOccurred(_ reply: RESPValue) -> AnswerAction {
        guard state == .open else { return .none }
        return requestAnswered(reply, thenClose: true)
    }

    /// A backend produces this request's reply later (`replyReady` with the returned sequence).
    mutating func replyDeferred() -> Int {
        append(.waiting)
    }

    /// A GET went to Redis; its reply comes back to `backendReplied` with the returned sequence.
    mutating func replyAwaitingBackend(_ get: AwaitedGet) -> Int {
        append(.awaitingBackend(get))
    }

    private mutating func append(_ reply: PendingReply) -> Int {
        let sequence = firstPendingSequence + pendingReplies.count
        pendingReplies.append(reply)
        return sequence
    }

    // MARK: - Replies

    /// Redis answered the GET of `sequence`: returns it for the handler to finish (its reply
    /// then comes through `replyReady`), or nil when no GET awaits that answer.
    mutating func backendReplied(sequence: Int) -> AwaitedGet? {
        guard let index = index(of: sequence),
            case .awaitingBackend(let get) = pendingReplies[index]
        else { return nil }
        pendingReplies[index] = .waiting
        return get
    }

    /// The reply of `sequence` is ready.
    mutating func replyReady(_ reply: RESPValue, sequence: Int) -> ReadyAction {
        guard let index = index(of: sequence) else { return .ignore }
        pendingReplies[index] = .ready(reply)
        return .writeInOrder
    }

    /// The next reply to write in request order, or what to do once no more can be written.
    mutating func nextInOrder() -> InOrderStep {
        if let first = pendingReplies.first, case .ready(let reply) = first {
            pendingReplies.removeFirst()
            firstPendingSequence += 1
            return .write(reply)
        }
        let output: AfterReplies.Output
        if state == .closing && pendingReplies.isEmpty && channelIsActive {
            state = .closingAfterWrites  // the last reply owed is out
            output = .closeAfterPendingWrites
        } else if flushScheduled {
            output = .none
        } else {
            flushScheduled = true
            output = .scheduleFlush
        }
        return .done(AfterReplies(output: output, resumeReading: resumeReadingIfPossible()))
    }

    private func index(of sequence: Int) -> CircularBuffer<PendingReply>.Index? {
        let offset = sequence - firstPendingSequence
        guard offset >= 0, offset < pendingReplies.count else { return nil }
        return pendingReplies.index(pendingReplies.startIndex, offsetBy: offset)
    }

    /// The flush scheduled by `nextInOrder` ran.
    mutating func scheduledFlushRan() {
        flushScheduled = false
    }

    // MARK: - Back-pressure

    /// The channel asks this connection whether to read more.
    mutating func readRequested() -> ReadAction {
        if state == .lingering || mayRunAnotherRequest {
            return .read
        }
        readHeld = true
        return .hold
    }

    /// Requests already read were left unrun (back-pressure): they run, and reading goes on,
    /// when a later event returns `resumeReading`.
    mutating func requestsHeldBack() {
        readHeld = true
    }

    /// A reply of `bytes` was written for the client.
    mutating func replyWritten(bytes: Int) {
        outputBudget.replyWritten(bytes: bytes)
    }

    /// The replies written went to the channel: returns whether held requests may go on.
    mutating func outputFlushed() -> Bool {
        outputBudget.flushed()
        return resumeReadingIfPossible()
    }

    /// The client's socket has `bytes` not taken yet: returns whether held requests may go on.
    mutating func outputBuffered(bytes: Int) -> Bool {
        outputBudget.bufferedChanged(to: bytes)
        return resumeReadingIfPossible()
    }

    /// The channel became writable or unwritable: returns whether a held `read` may go on.
    mutating func writabilityChanged(isWritable: Bool) -> Bool {
        channelIsWritable = isWritable
        return resumeReadingIfPossible()
    }

    private mutating func resumeReadingIfPossible() -> Bool {
        guard readHeld && mayRunAnotherRequest else {
            return false
        }
        readHeld = false
        return true
    }

    // MARK: - Closing

    /// Graceful shutdown: run no more requests, answer those already run, then close.
    mutating func drainRequested() -> DrainAction {
        switch state {
        case .open, .closing:
            guard pendingReplies.isEmpty && channelIsActive else {
                state = .closing
                return .none
            }
            state = .closingAfterWrites
            return .closeAfterPendingWrites
        case .closingAfterWrites, .lingering:
            return .none
        }
    }

    /// What was written before `closeAfterPendingWrites` has reached the socket (or failed).
    mutating func pendingWritesCompleted(channelIsActive: Bool) -> WritesCompletedAction {
        guard state == .closingAfterWrites && channelIsActive else { return .none }
        state = .lingering
        return .closeOutputAndLinger
    }

    /// The channel closed: nothing is closed after replies any more.
    mutating func channelInactive() {
        channelIsActive = false
    }
}
