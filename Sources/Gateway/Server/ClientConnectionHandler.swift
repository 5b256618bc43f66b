import CacheModel
import CoreMetrics
import NIOCore
import ReadThrough
import RedisBackend
import RESP

/// Sent to every client connection when the gateway shuts down gracefully.
struct DrainEvent: Sendable {}

/// One client connection: decodes requests from the bytes read, runs each one, writes replies
/// strictly in request order (even when a backend answers later), batches the replies of one
/// read (or of one event-loop tick) into one write, and stops reading while the client does
/// not read its replies.
///
/// The decisions (reply order, back-pressure, flush batching, closing) are made by
/// `ClientConnectionStateMachine`; this handler feeds it the channel's events and does the I/O
/// its actions ask for.
final class ClientConnectionHandler: ChannelDuplexHandler, RedisReplyReceiver {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// A GET waiting for Redis's reply. Plain values only: it is copied into and out of the
    /// pending replies for every GET, and each reference here would cost a retain and a release
    /// per copy on the hit path (BENCHMARKS.md, the pipelined hit-path profile). The cache and
    /// the GET timer are the handler's own (`cache`, `getTimer`).
    struct PendingGet {
        let key: CacheKey
        /// When the request's read began; nil when its duration is not recorded.
        let started: NIODeadline?
        /// The near cache's mark when the GET left (see `CacheGet.nearMark`).
        let nearMark: NearCache.Mark?
    }

    private let dispatcher: CommandDispatcher
    /// The read-through cache every GET of this connection goes through.
    private let cache: ReadThroughCache?
    /// Where a GET's duration is recorded (nil without metrics): the same timer for every GET.
    private let getTimer: CoreMetrics.Timer?
    private let registry: ClientRegistry
    private var session: ClientSession
    private var state: ClientConnectionStateMachine<PendingGet>
    /// This connection's event loop's flush list (see `runAfterReplies`).
    private let flushList: LoopFlushList
    /// The replies this connection's event loop awaits from the backends, and whose turn it is.
    private let admission: LoopAdmission
    /// Set while the handler is in the pipeline, for flushes run by `flushList`.
    private var context: ChannelHandlerContext?
    private var decoder: RESPRequestDecoder
    private var cumulation = ReceiveCumulation()
    /// nil when `server.request_timeout_seconds` is 0.
    private var requestDeadline: RequestDeadline?
    /// What all clients hold together, and the limits on it.
    private let memory: ClientMemory
    /// This connection's share of `memory`'s total, as last added to it.
    private var accountedBytes = 0
    /// Requests are being decoded and run: a reply written meanwhile does not start a second loop.
    private var decoding = false

    /// Replies ready to write at the next flush.
    private var output: ByteBuffer?
    /// Capacity of the next `output`: the size of the last batch written (bounded), so that a
    /// batch of pipelined replies does not regrow its buffer from 256 bytes every time.
    private var outputCapacity = ClientConnectionHandler.minimumOutputCapacity
    private static let minimumOutputCapacity = 256
    private static let maximumOutputCapacity = 64 * 1024

    init(
        dispatcher: CommandDispatcher, registry: ClientRegistry, record: ClientRecord, maxPendingReplies: Int,
        flushList: LoopFlushList, admission: LoopAdmission
    ) {
        self.admission = admission
        self.dispatcher = dispatcher
        self.cache = dispatcher.environment.cache
        self.getTimer = dispatcher.environment.metrics?.getRequestDuration
        self.flushList = flushList
        self.decoder = RESPRequestDecoder(limits: dispatcher.environment.configuration.limits)
        self.registry = registry
        self.memory = dispatcher.environment.clientMemory
        self.state = ClientConnectionStateMachine(
            maxPendingReplies: maxPendingReplies, outputSoftLimit: dispatcher.environment.clientMemory.limits.outputSoftBytes)
        let requestTimeout = dispatcher.environment.configuration.requestTimeoutSeconds
        self.requestDeadline = requestTimeout > 0 ? RequestDeadline(limit: .seconds(Int64(requestTimeout))) : nil
        self.session = ClientSession(
            record: record,
            requiresAuthentication: dispatcher.environment.configuration.users.requiresAuthentication)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        session.pushSink = ClientTracking.Sink(eventLoop: context.eventLoop, handler: NIOLoopBound(self, eventLoop: context.eventLoop))
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        session.pushSink = nil  // it holds this handler
    }

    func channelInactive(context: ChannelHandlerContext) {
        state.channelInactive()
        admission.release(state.releaseAllInFlight())
        if accountedBytes != 0 { _ = memory.adjust(by: -accountedBytes) }
        accountedBytes = 0
        registry.remove(session.record.id)
        if session.pushSink != nil {
            session.pushSink = nil  // it holds this handler
            if session.tracking != nil || session.subscribedToInvalidations {
                dispatcher.environment.tracking.connectionClosed(client: session.record.id)
            }
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !state.discardsInput else { return }
        session.record.update { $0.lastInteraction = .now }  // once per read, not per command
        runRequests(cumulation.merged(with: unwrapInboundIn(data)), context: context)
    }

    /// Decodes and runs the requests in `input` while back-pressure allows, and keeps the
    /// rest (a request still arriving, or requests held back) for later.
    private func runRequests(_ input: ByteBuffer, context: ChannelHandlerContext) {
        var buffer = input
        // Requests that arrived in one read are timed from that read.
        let started = dispatcher.environment.metrics == nil ? nil : NIODeadline.now()
        var completed = false
        decoding = true
        do {
            while mayRunNextRequest, let decoded = try decoder.decodeNext(buffer: &buffer) {
                completed = true
                run(decoded, started: started, context: context)
            }
        } catch {
            decoding = false
            protocolError(error, context: context)
            return
        }
        decoding = false
        let heldBack = state.acceptsRequests && buffer.readableBytes > 0 && !mayRunNextRequest
        if heldBack {
            if state.mayRunAnotherRequest {
                state.waitForRoom()  // only the loop's room is missing: take a turn
                admission.wait(self)
            } else {
                state.requestsHeldBack()
            }
        }
        cumulation.keep(state.acceptsRequests ? buffer : ByteBuffer())
        if requestDeadline != nil {
            // Requests held back have arrived: the client waits for the gateway, not the reverse.
            let partial = state.acceptsRequests && (buffer.readableBytes > 0 || decoder.isMidRequest) && !heldBack
            perform(requestDeadline?.read(completedRequests: completed, partialRemains: partial, now: started ?? .now()),
                    context: context)
        }
        accountBuffers(context: context)
    }

    /// This connection's limits and its event loop's room both allow another request.
    private var mayRunNextRequest: Bool {
        state.mayRunAnotherRequest && admission.admits(pendingReplies: state.pendingReplyCount)
    }

    /// The event loop has room for this connection's requests again (its turn came).
    func admissionGranted() {
        guard let context, state.roomGranted() else { return }
        resumeRequests(context: context)
    }

    /// Back-pressure lifted: runs the requests held back, then reads on.
    private func resumeRequests(context: ChannelHandlerContext) {
        if !decoding && cumulation.pendingBytes > 0 {
            runRequests(cumulation.merged(with: context.channel.allocator.buffer(capacity: 0)), context: context)
            flushOutput(context: context)  // no read completes this run: its replies leave now
        }
        read(context: context)  // through the state machine: those requests may have filled the budget again
    }

    // MARK: - Buffer limits

    /// Adds this connection's change in held bytes to the gateway-wide total and closes it if
    /// a buffer limit says so. Free for a client that keeps up: nothing is held, nothing changes.
    private func accountBuffers(context: ChannelHandlerContext) {
        // Replies not flushed yet leave at the end of this tick: only the socket's queue counts.
        let output = state.outputBudget.buffered
        let input = cumulation.pendingBytes
        let held = output + input
        guard held != accountedBytes || held > 0 else { return }
        var total = memory.totalBytes
        if held != accountedBytes {
            total = memory.adjust(by: held - accountedBytes)
            accountedBytes = held
        }
        guard let cause = memory.limits.verdict(output: output, input: input, gatewayTotal: total) else { return }
        memory.disconnected(cause, client: session.record.remoteAddress, output: output, input: input)
        cumulation.keep(ByteBuffer())
        context.close(promise: nil)
    }

    /// The bytes the socket has not taken, measured only while it is not writable: below NIO's
    /// write watermark (64 KiB) a connection counts as holding nothing.
    private func measureOutput(context: ChannelHandlerContext) {
        let buffered = context.channel.isWritable
            ? 0 : (try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? state.outputBudget.buffered
        guard buffered != state.outputBudget.buffered else { return }
        if state.outputBuffered(bytes: buffered) { resumeRequests(context: context) }
        accountBuffers(context: context)
    }

    // MARK: - Request deadline

    private func perform(_ action: RequestDeadline.Action?, context: ChannelHandlerContext) {
        switch action {
        case .schedule(let deadline)?:
            context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
                guard let context = self.context else { return }
                perform(requestDeadline?.timerFired(now: .now()), context: context)
            }
        case .close?:
            // As the idle timeout: Redis closes silently.
            dispatcher.environment.stats.requestTimeouts.add(1, ordering: .relaxed)
            context.close(promise: nil)
        case .none?, nil:
            break
        }
    }

    private func run(_ decoded: DecodedRequest, started: NIODeadline?, context: ChannelHandlerContext) {
        var timer: CoreMetrics.Timer?
        let outcome: CommandOutcome
        switch decoded {
        case .get(let key):  // the hit path: no argument array
            outcome = dispatcher.dispatchGet(key: key, session: &session, eventLoop: context.eventLoop, timer: &timer)
        case .request(let request):
            outcome = dispatcher.dispatch(request, session: &session, eventLoop: context.eventLoop, timer: &timer)
        }
        guard session.replyMode.commandFinished() else {
            runSilently(outcome, context: context)
            return
        }
        switch outcome {
        case .reply(let value):
            if let timer, let started { timer.recordNanoseconds((NIODeadline.now() - started).nanoseconds) }
            answer(state.requestAnswered(value, thenClose: false), context: context)
        case .noReply:
            break
        case .replyAndClose(let value):
            answer(state.requestAnswered(value, thenClose: true), context: context)
        case .deferred(let future):
            let sequence = state.replyDeferred()
            admission.charge(state.chargeInFlight())
            future.hop(to: context.eventLoop).assumeIsolated().whenComplete { result in
                if let timer, let started { timer.recordNanoseconds((NIODeadline.now() - started).nanoseconds) }
                switch result {
                case .success(let reply): self.replyReady(reply, sequence: sequence, context: context)
                case .failure(let error): self.replyReady(.error("ERR \(error)"), sequence: sequence, context: context)
                }
            }
        case .cacheGet(let get):
            let sequence = state.replyAwaitingBackend(PendingGet(key: get.key, started: timer == nil ? nil : started, nearMark: get.nearMark))
            admission.charge(state.chargeInFlight())
            get.start(on: context.eventLoop, receiver: self, tag: sequence)
        }
    }

    /// Runs a command whose reply `CLIENT REPLY OFF|SKIP` suppressed: its work still happens
    /// (a miss is still filled) and nothing is written; it owes no reply, so later replies do
    /// not wait for it. A silenced QUIT closes once the replies owed before it are out.
    private func runSilently(_ outcome: CommandOutcome, context: ChannelHandlerContext) {
        switch outcome {
        case .reply, .noReply: break
        case .replyAndClose: closeOnceRepliesAreOut(context: context)
        case .deferred(let future): future.whenComplete { _ in }
        case .cacheGet(let get): get.cache.get(get.key, on: context.eventLoop).whenComplete { _ in }
        }
    }

    /// Redis's reply to the GET of pending reply `tag` (the hit path: no closure per GET).
    func redisReplied(_ result: Result<RESPValue, any Error>, tag sequence: Int) {
        guard let context, let cache, let pending = state.backendReplied(sequence: sequence) else { return }  // connection gone
        let timer = pending.started == nil ? nil : getTimer
        let started = pending.started
        // Whether a miss may be filled is asked only of a reply that is not a value (the hit path
        // pays nothing); a fill started takes one of the loop's places until it ends.
        let shed: FillShed?
        var holdsMissPlace = false
        if case .success(.bulkString) = result {
            shed = nil
        } else {
            shed = admission.missStarts()
            holdsMissPlace = shed == nil
        }
        switch CacheGet.finish(result, key: pending.key, cache: cache, on: context.eventLoop, shedMisses: shed,
                               nearMark: pending.nearMark) {
        case .reply(let value):
            if holdsMissPlace { admission.missEnded() }  // no fill after all (a Redis error not worth one)
            if let timer, let started { timer.recordNanoseconds((NIODeadline.now() - started).nanoseconds) }
            replyReady(value, sequence: sequence, context: context)
        case .later(let filled):
            admission.charge(state.chargeMiss())  // a fill's work: pipelined misses take turns
            filled.assumeIsolated().whenComplete { result in
                if holdsMissPlace { self.admission.missEnded() }
                if let timer, let started { timer.recordNanoseconds((NIODeadline.now() - started).nanoseconds) }
                switch result {
                case .success(let reply): self.replyReady(reply, sequence: sequence, context: context)
                case .failure(let error):
                    self.replyReady(.error("ERR \(error)"), sequence: sequence, context: context)
                }
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushOutput(context: context)
        context.fireChannelReadComplete()
    }

    private func protocolError(_ error: RESPProtocolError, context: ChannelHandlerContext) {
        dispatcher.environment.stats.protocolErrors.add(1, ordering: .relaxed)
        cumulation.keep(ByteBuffer())
        // Redis answers the garbage with an error, then closes once the replies are out.
        answer(state.protocolErrorOccurred(.error("ERR \(error.message)")), context: context)
        flushOutput(context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is DrainEvent {
            // Graceful shutdown: read nothing more, answer what was read, then close.
            closeOnceRepliesAreOut(context: context)
            return
        }
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)  // idle timeout: Redis closes silently
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: - Back-pressure

    func read(context: ChannelHandlerContext) {
        switch state.readRequested() {
        case .read: context.read()
        case .hold: break
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if state.writabilityChanged(isWritable: context.channel.isWritable) { resumeRequests(context: context) }
        measureOutput(context: context)
        context.fireChannelWritabilityChanged()
    }

    // MARK: - Ordered replies

    private func answer(_ action: ClientConnectionStateMachine<PendingGet>.AnswerAction, context: ChannelHandlerContext) {
        switch action {
        case .write(let reply):
            write(reply, context: context)
        case .writeThenCloseAfterPendingWrites(let reply):
            write(reply, context: context)
            closeAfterPendingWrites(context: context)
        case .none:
            break
        }
    }

    /// The reply of pending reply `sequence` is ready: writes every reply now ready in order.
    private func replyReady(_ reply: RESPValue, sequence: Int, context: ChannelHandlerContext) {
        guard state.replyReady(reply, sequence: sequence) == .writeInOrder else { return }  // connection gone
        admission.release(state.releaseInFlight())
        while true {
            switch state.nextInOrder() {
            case .write(let reply):
                write(reply, context: context)
            case .done(let after):
                runAfterReplies(after, context: context)
                return
            }
        }
    }

    /// Runs no more requests, writes the replies owed, then closes (graceful shutdown, a silenced QUIT).
    private func closeOnceRepliesAreOut(context: ChannelHandlerContext) {
        switch state.drainRequested() {
        case .closeAfterPendingWrites: closeAfterPendingWrites(context: context)
        case .none: break
        }
    }

    /// A scheduled flush goes through the loop's flush list: the replies that one Redis read
    /// completes for this client leave in one write at the end of the tick, not one write
    /// each, and the list runs one task for all its clients.
    private func runAfterReplies(
        _ after: ClientConnectionStateMachine<PendingGet>.AfterReplies, context: ChannelHandlerContext
    ) {
        switch after.output {
        case .none: break
        case .scheduleFlush: flushList.add(self)
        case .closeAfterPendingWrites: closeAfterPendingWrites(context: context)  // draining: the last awaited reply is out
        }
        if after.resumeReading { resumeRequests(context: context) }
    }

    private func write(_ value: RESPValue, context: ChannelHandlerContext) {
        if output == nil { output = context.channel.allocator.buffer(capacity: outputCapacity) }
        if case .error = value { dispatcher.environment.stats.errorReplies.add(1, ordering: .relaxed) }
        let before = output?.writerIndex ?? 0
        output?.writeRESPValue(value, version: session.protocolVersion)
        state.replyWritten(bytes: (output?.writerIndex ?? 0) - before)
    }

    /// Closes once every reply written so far has reached the socket: closing at once
    /// would drop replies still queued in the channel (NIO fails pending writes on close).
    private func closeAfterPendingWrites(context: ChannelHandlerContext) {
        let buffer = output ?? context.channel.allocator.buffer(capacity: 0)
        output = nil
        context.writeAndFlush(wrapOutboundOut(buffer)).hop(to: context.eventLoop).assumeIsolated().whenComplete { _ in
            switch self.state.pendingWritesCompleted(channelIsActive: context.channel.isActive) {
            case .closeOutputAndLinger: self.closeOutputAndLinger(context: context)
            case .none: break
            }
        }
    }

    /// Half-closes and drops what the client still sends until it closes, for at most
    /// `lingerTimeout`. Closing at once while its requests sit unread would make the kernel
    /// answer with a reset, which destroys the replies the client has not read yet.
    private func closeOutputAndLinger(context: ChannelHandlerContext) {
        let channel = context.channel
        context.close(mode: .output).whenFailure { _ in channel.close(promise: nil) }
        context.read()
        context.eventLoop.scheduleTask(in: Self.lingerTimeout) { channel.close(promise: nil) }
    }

    /// The longest a closing connection waits for its client to close first.
    static let lingerTimeout = TimeAmount.seconds(1)

    /// A tracking invalidation for this connection (`ClientTracking`, on this event loop): written
    /// after the replies owed now (`pushArrived`), never inside one.
    func trackingNotice(_ notice: TrackingTable.Notice) {
        guard let context,
              let value = TrackingPush.value(notice, protocolVersion: session.protocolVersion,
                                             subscribed: session.subscribedToInvalidations) else { return }
        guard case .write(let push) = state.pushArrived(value) else { return }
        write(push, context: context)
        if !decoding { flushOutput(context: context) }  // else the read's end flushes it
    }

    /// Called by `flushList` at the end of the tick in which a flush was scheduled.
    func flushScheduledOutput() {
        state.scheduledFlushRan()
        guard let context else { return }
        flushOutput(context: context)
    }

    private func flushOutput(context: ChannelHandlerContext) {
        guard let buffer = output, buffer.readableBytes > 0 else { return }
        output = nil
        outputCapacity = min(max(buffer.readableBytes, Self.minimumOutputCapacity), Self.maximumOutputCapacity)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        let resume = state.outputFlushed()
        if !context.channel.isWritable || state.outputBudget.buffered > 0 { measureOutput(context: context) }
        // Requests held because the replies written before this flush filled the budget go on
        // in a task of their own (a flush inside their run would otherwise nest another run).
        if resume { context.eventLoop.assumeIsolated().execute { [self] in resumeRequests(context: context) } }
    }
}
