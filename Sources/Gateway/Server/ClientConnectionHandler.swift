import CoreMetrics
import NIOCore
import RedisBackend
import RESP

/// Sent to every client connection when the gateway shuts down gracefully.
struct DrainEvent: Sendable {}

/// One client connection: decodes requests from the bytes read, runs each one, writes replies
/// strictly in request order (even when a backend answers later), batches the replies of one
/// read (or of one event-loop tick) into one write, and stops reading while the client does
/// not read its replies.
final class ClientConnectionHandler: ChannelDuplexHandler, RedisReplyReceiver {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let dispatcher: CommandDispatcher
    private let registry: ClientRegistry
    private var session: ClientSession
    private let maxPendingReplies: Int
    /// This connection's event loop's flush list (see `scheduleFlush`).
    private let flushList: LoopFlushList
    /// Set while the handler is in the pipeline, for flushes run by `flushList`.
    private var context: ChannelHandlerContext?
    private var decoder: RESPRequestDecoder
    private var cumulation = ReceiveCumulation()

    /// Replies waiting for an earlier deferred one, in request order.
    private var queue = CircularBuffer<Slot>(initialCapacity: 4)
    /// Sequence number of `queue.first`.
    private var firstSequence = 0
    /// Replies ready to write at the next flush.
    private var output: ByteBuffer?
    /// Capacity of the next `output`: the size of the last batch written (bounded), so that a
    /// batch of pipelined replies does not regrow its buffer from 256 bytes every time.
    private var outputCapacity = ClientConnectionHandler.minimumOutputCapacity
    private static let minimumOutputCapacity = 256
    private static let maximumOutputCapacity = 64 * 1024
    /// Set once QUIT or a protocol error decided to close after the replies are out.
    private var closing = false
    /// A `read` was held back because of back-pressure.
    private var readHeld = false
    /// A flush is due at the end of the current event-loop tick.
    private var flushScheduled = false
    /// Replies are out and the output is closed: input is read and dropped until the client closes.
    private var lingering = false

    private enum Slot {
        case waiting
        /// A GET whose Redis reply comes to `redisReplied` with this slot's sequence number.
        case awaitingGet(CacheGet, timer: CoreMetrics.Timer?, started: NIODeadline?)
        /// nil: nothing to write (a reply suppressed by `CLIENT REPLY`), only maybe the close.
        case ready(RESPValue?, closeAfter: Bool)
    }

    init(
        dispatcher: CommandDispatcher, registry: ClientRegistry, record: ClientRecord, maxPendingReplies: Int,
        flushList: LoopFlushList
    ) {
        self.dispatcher = dispatcher
        self.flushList = flushList
        self.decoder = RESPRequestDecoder(limits: dispatcher.environment.configuration.limits)
        self.registry = registry
        self.maxPendingReplies = maxPendingReplies
        self.session = ClientSession(
            record: record,
            requiresAuthentication: dispatcher.environment.configuration.users.requiresAuthentication)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        registry.remove(session.record.id)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !lingering else { return }
        var buffer = cumulation.merged(with: unwrapInboundIn(data))
        session.record.update { $0.lastInteraction = .now }  // once per read, not per command
        // Requests that arrived in one read are timed from that read.
        let started = dispatcher.environment.metrics == nil ? nil : NIODeadline.now()
        do {
            while !closing, let decoded = try decoder.decodeNext(buffer: &buffer) {
                run(decoded, started: started, context: context)
            }
        } catch {
            protocolError(error, context: context)
            return
        }
        cumulation.keep(closing ? ByteBuffer() : buffer)
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
            enqueue(value, closeAfter: false, context: context)
        case .noReply:
            break
        case .replyAndClose(let value):
            enqueue(value, closeAfter: true, context: context)
        case .deferred(let future):
            let completion = awaitReply(context: context, timer: timer, started: started)
            future.hop(to: context.eventLoop).assumeIsolated().whenComplete { result in
                switch result {
                case .success(let reply): completion(reply)
                case .failure(let error): completion(.error("ERR \(error)"))
                }
            }
        case .cacheGet(let get):
            let sequence = firstSequence + queue.count
            queue.append(.awaitingGet(get, timer: timer, started: started))
            get.start(on: context.eventLoop, receiver: self, tag: sequence)
        }
    }

    /// Runs a command whose reply `CLIENT REPLY OFF|SKIP` suppressed: its work still happens
    /// (a miss is still filled), in its turn, and nothing is written.
    private func runSilently(_ outcome: CommandOutcome, context: ChannelHandlerContext) {
        switch outcome {
        case .reply, .noReply: break
        case .replyAndClose: enqueue(nil, closeAfter: true, context: context)
        case .deferred(let future): future.whenComplete { _ in }
        case .cacheGet(let get): get.cache.get(get.key, on: context.eventLoop).whenComplete { _ in }
        }
    }

    /// Redis's reply to the GET of slot `tag` (the hit path: no closure per GET).
    func redisReplied(_ result: Result<RESPValue, any Error>, tag sequence: Int) {
        let index = sequence - firstSequence
        guard let context, index >= 0, index < queue.count else { return }  // connection already gone
        guard case .awaitingGet(let get, let timer, let started) = queue[queue.index(queue.startIndex, offsetBy: index)]
        else { return }
        switch get.finish(result, on: context.eventLoop) {
        case .reply(let value):
            if let timer, let started { timer.recordNanoseconds((NIODeadline.now() - started).nanoseconds) }
            complete(sequence: sequence, with: value, context: context)
        case .later(let filled):
            queue[queue.index(queue.startIndex, offsetBy: index)] = .waiting
            filled.assumeIsolated().whenComplete { result in
                if let timer, let started { timer.recordNanoseconds((NIODeadline.now() - started).nanoseconds) }
                switch result {
                case .success(let reply): self.complete(sequence: sequence, with: reply, context: context)
                case .failure(let error): self.complete(sequence: sequence, with: .error("ERR \(error)"), context: context)
                }
            }
        }
    }

    /// Reserves the next reply's place; the returned closure fills it (on this loop).
    private func awaitReply(
        context: ChannelHandlerContext, timer: CoreMetrics.Timer?, started: NIODeadline?
    ) -> (RESPValue) -> Void {
        let sequence = firstSequence + queue.count
        queue.append(.waiting)
        return { value in
            if let timer, let started { timer.recordNanoseconds((NIODeadline.now() - started).nanoseconds) }
            self.complete(sequence: sequence, with: value, context: context)
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
        if !closing { enqueue(.error("ERR \(error.message)"), closeAfter: true, context: context) }
        flushOutput(context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is DrainEvent {
            // Graceful shutdown: read nothing more, answer what was read, then close.
            closing = true
            readHeld = true
            if queue.isEmpty { closeAfterPendingWrites(context: context) }
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
        if lingering || (context.channel.isWritable && queue.count < maxPendingReplies && !closing) {
            context.read()
        } else {
            readHeld = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        resumeReadingIfPossible(context: context)
        context.fireChannelWritabilityChanged()
    }

    private func resumeReadingIfPossible(context: ChannelHandlerContext) {
        if readHeld && context.channel.isWritable && queue.count < maxPendingReplies && !closing {
            readHeld = false
            context.read()
        }
    }

    // MARK: - Ordered replies

    private func enqueue(_ value: RESPValue?, closeAfter: Bool, context: ChannelHandlerContext) {
        if closeAfter { closing = true }
        if queue.isEmpty {
            write(value, closeAfter: closeAfter, context: context)
        } else {
            queue.append(.ready(value, closeAfter: closeAfter))
        }
    }

    private func complete(sequence: Int, with value: RESPValue, context: ChannelHandlerContext) {
        let index = sequence - firstSequence
        guard index >= 0, index < queue.count else { return }  // connection already gone
        queue[queue.index(queue.startIndex, offsetBy: index)] = .ready(value, closeAfter: false)
        while let first = queue.first, case let .ready(reply, closeAfter) = first {
            queue.removeFirst()
            firstSequence += 1
            write(reply, closeAfter: closeAfter, context: context)
        }
        if closing && queue.isEmpty && context.channel.isActive {
            closeAfterPendingWrites(context: context)  // draining: the last awaited reply is out
        } else {
            scheduleFlush(context: context)
        }
        resumeReadingIfPossible(context: context)
    }

    private func write(_ value: RESPValue?, closeAfter: Bool, context: ChannelHandlerContext) {
        if let value {
            if output == nil { output = context.channel.allocator.buffer(capacity: outputCapacity) }
            if case .error = value { dispatcher.environment.stats.errorReplies.add(1, ordering: .relaxed) }
            output?.writeRESPValue(value, version: session.protocolVersion)
        }
        if closeAfter { closeAfterPendingWrites(context: context) }
    }

    /// Closes once every reply written so far has reached the socket: closing at once
    /// would drop replies still queued in the channel (NIO fails pending writes on close).
    private func closeAfterPendingWrites(context: ChannelHandlerContext) {
        let buffer = output ?? context.channel.allocator.buffer(capacity: 0)
        output = nil
        context.writeAndFlush(wrapOutboundOut(buffer)).hop(to: context.eventLoop).assumeIsolated().whenComplete { _ in
            self.lingerThenClose(context: context)
        }
    }

    /// Half-closes (the client reads every reply, then the end of the stream) and drops what
    /// the client still sends until it closes, for at most `lingerTimeout`. Closing at once
    /// while its requests sit unread would make the kernel answer with a reset, which
    /// destroys the replies the client has not read yet.
    private func lingerThenClose(context: ChannelHandlerContext) {
        let channel = context.channel
        guard channel.isActive else { return }
        lingering = true
        context.close(mode: .output).whenFailure { _ in channel.close(promise: nil) }
        context.read()
        context.eventLoop.scheduleTask(in: Self.lingerTimeout) { channel.close(promise: nil) }
    }

    /// The longest a closing connection waits for its client to close first.
    static let lingerTimeout = TimeAmount.seconds(1)

    /// Flushes once at the end of this event-loop tick: the replies that one Redis read
    /// completes for this client leave in one write, not one write each. The loop's flush
    /// list runs one task for all its clients.
    private func scheduleFlush(context: ChannelHandlerContext) {
        guard !flushScheduled else { return }
        flushScheduled = true
        flushList.add(self)
    }

    /// Called by `flushList` at the end of the tick in which `scheduleFlush` ran.
    func flushScheduledOutput() {
        flushScheduled = false
        guard let context else { return }
        flushOutput(context: context)
    }

    private func flushOutput(context: ChannelHandlerContext) {
        guard let buffer = output, buffer.readableBytes > 0 else { return }
        output = nil
        outputCapacity = min(max(buffer.readableBytes, Self.minimumOutputCapacity), Self.maximumOutputCapacity)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }
}
