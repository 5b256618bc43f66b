import Logging
import NIOCore
import NIOPosix
import NIOSSL
import RESP
import Synchronization

/// The Redis connection that belongs to one event loop: it owns the state machine, the current
/// channel, the output buffer and the timers, and runs the machine's actions.
///
/// All mutable state is touched only on `eventLoop` (that is what makes `@unchecked Sendable`
/// sound); only `isConnected` is read from other threads, through an atomic.
final class LoopConnection: @unchecked Sendable {
    typealias Machine = ConnectionStateMachine<ReplyTarget>

    let eventLoop: any EventLoop
    private let configuration: RedisClientConfiguration
    private let logger: Logger
    private let connectedFlag = Atomic<Bool>(false)

    private var machine: Machine
    /// The handler of the current channel, once it is active.
    private var handler: RedisChannelHandler?
    /// Bumped on every connect attempt and teardown, so late events of old channels are ignored.
    private var epoch: UInt64 = 0
    /// Encoded commands not yet written: a batch to flush, or the queue while connecting.
    private var output: ByteBuffer
    private var flushScheduled = false
    /// When the current tick's first command was queued.
    private var tickTime = NIODeadline.uptimeNanoseconds(0)
    private var readyWaiters: [EventLoopPromise<Void>] = []
    private var timeoutTask: RepeatedTask?
    private var backoffTask: Scheduled<Void>?
    /// The last connection problem logged, so that a repeated one is not logged again.
    private var lastProblem: String?

    private let counters: RedisClientCounters

    init(eventLoop: any EventLoop, configuration: RedisClientConfiguration, counters: RedisClientCounters, logger: Logger) {
        self.counters = counters
        self.eventLoop = eventLoop
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "redis.address"] = "\(configuration.address)"
        self.logger = logger
        self.output = ByteBufferAllocator().buffer(capacity: 4096)
        self.machine = Machine(
            settings: .init(
                address: configuration.address,
                commandTimeout: configuration.commandTimeout,
                backoffMin: configuration.reconnectBackoffMin,
                backoffMax: configuration.reconnectBackoffMax,
                maxPending: configuration.maxPendingCommands,
                authenticate: configuration.password != nil,
                selectDatabase: configuration.database != 0,
                setName: configuration.clientName != nil))
    }

    /// Whether the connection is ready right now (any thread).
    var isConnected: Bool { connectedFlag.load(ordering: .relaxed) }

    // MARK: - Calls from the client (on the loop)

    /// Queues one command; `promise` completes with its reply. The bytes go out at the end of
    /// the current tick together with every other command of the tick.
    func send<Argument: RedisCommandArgument>(_ arguments: [Argument], promise: EventLoopPromise<RESPValue>) {
        eventLoop.assertInEventLoop()
        guard !arguments.isEmpty else {
            promise.fail(RedisClientError.emptyCommand)
            return
        }
        enqueue(.promise(promise)) { $0.writeRedisCommand(arguments) }
    }

    /// Queues `command key` (GET, PTTL, …); `receiver` gets the reply with `tag` on this loop.
    /// The hit path's form: no argument array, no promise, no closure.
    func send(_ command: ByteBuffer, key: ByteBuffer, receiver: any RedisReplyReceiver, tag: Int) {
        eventLoop.assertInEventLoop()
        enqueue(.receiver(receiver, tag: tag)) { output in
            output.writeRESPArrayHeader(2)
            output.writeRESPBulkString(command)
            output.writeRESPBulkString(key)
        }
    }

    private func enqueue(_ target: ReplyTarget, encode: (inout ByteBuffer) -> Void) {
        // Commands of one tick share one clock reading (they leave in one write anyway).
        if !flushScheduled { tickTime = .now() }
        let action = machine.sendRequested(target, now: tickTime)
        switch action {
        case .write:
            encode(&output)
            scheduleFlush()
        case .queue:
            encode(&output)
        case .connect:
            encode(&output)
            run(action)
        default:
            run(action)
        }
    }

    /// Completes once the connection is ready, or fails with why the attempt failed.
    func connectNow() -> EventLoopFuture<Void> {
        eventLoop.assertInEventLoop()
        if machine.isReady { return eventLoop.makeSucceededVoidFuture() }
        if machine.state == .shutDown { return eventLoop.makeFailedFuture(RedisClientError.shutDown) }
        let waiter = eventLoop.makePromise(of: Void.self)
        readyWaiters.append(waiter)
        run(machine.connectRequested())
        return waiter.futureResult
    }

    /// Fails everything, closes the channel and stops the timers for good.
    func shutdown() -> EventLoopFuture<Void> {
        eventLoop.assertInEventLoop()
        let closed = handler?.closeFuture
        run(machine.shutdownRequested())
        timeoutTask?.cancel()
        timeoutTask = nil
        backoffTask?.cancel()
        backoffTask = nil
        return closed ?? eventLoop.makeSucceededVoidFuture()
    }

    // MARK: - Calls from the channel handler

    func channelActive(_ from: RedisChannelHandler) {
        guard from.epoch == epoch, handler == nil else {
            from.close()
            return
        }
        handler = from
        run(machine.connected(now: .now()))
    }

    func replyReceived(_ value: RESPValue, from: RedisChannelHandler) {
        guard from === handler else { return }
        run(machine.replyReceived(value))
    }

    func channelInactive(_ from: RedisChannelHandler) {
        guard from === handler else { return }
        handler = nil
        run(machine.connectionLost(reason: "connection closed by the server", closeChannel: false))
    }

    /// The TLS handshake of the current attempt failed or timed out: a failed connect.
    func handshakeFailed(_ from: RedisChannelHandler, reason: String) {
        guard from.epoch == epoch, handler == nil else { return }
        run(machine.connectFailed(reason: reason))
    }

    /// The TLS handshake failed with `error` (a certificate refused, most often).
    func handshakeFailed(_ from: RedisChannelHandler, error: any Error) {
        let reason = configuration.tls?.describe(error, host: configuration.host) ?? Self.describe(error)
        handshakeFailed(from, reason: reason)
    }

    func channelFailed(_ from: RedisChannelHandler, error: any Error) {
        guard from === handler else { return }
        run(machine.connectionLost(reason: Self.describe(error), closeChannel: true))
    }

    // MARK: - Running actions

    private func run(_ action: Machine.Action) {
        switch action {
        case .none, .queue:
            break
        case .write:
            scheduleFlush()
        case .connect:
            backoffTask?.cancel()
            backoffTask = nil
            startConnect()
        case .failCommand(let target, let error):
            counters.failed.add(1, ordering: .relaxed)
            target.fail(error)
        case .sendHandshake(let auth, let select, let setName):
            writeHandshake(auth: auth, select: select, setName: setName)
        case .markReady:
            connectedFlag.store(true, ordering: .relaxed)
            if lastProblem != nil {
                logger.notice("Redis connection restored")
                lastProblem = nil
            } else {
                logger.debug("connected to Redis")
            }
            flushNow()
            let waiters = readyWaiters
            readyWaiters.removeAll()
            for waiter in waiters { waiter.succeed() }
        case .succeed(let target, let value):
            target.succeed(value)
        case .teardown(let teardown):
            runTeardown(teardown)
        }
    }

    private func runTeardown(_ teardown: Machine.Teardown) {
        epoch &+= 1
        connectedFlag.store(false, ordering: .relaxed)
        output.clear()
        if let current = handler {
            handler = nil
            if teardown.closeChannel { current.close() }
        }
        // Logged once per cause, not once per attempt or per failed command.
        if teardown.error != .shutDown, lastProblem != "\(teardown.error)" {
            lastProblem = "\(teardown.error)"
            logger.warning(
                "Redis connection problem",
                metadata: ["error": "\(teardown.error)", "failedCommands": "\(teardown.failing.count)"])
        }
        // Move on first, so that callbacks of the failed promises see the new state.
        var waiters: [EventLoopPromise<Void>] = []
        switch teardown.next {
        case .reconnectNow:
            startConnect()
        case .reconnectAfter(let delay):
            scheduleReconnect(after: delay)
            swap(&waiters, &readyWaiters)
        case .stop:
            swap(&waiters, &readyWaiters)
        }
        for waiter in waiters { waiter.fail(teardown.error) }
        if !teardown.failing.isEmpty { counters.failed.add(teardown.failing.count, ordering: .relaxed) }
        for target in teardown.failing { target.fail(teardown.error) }
    }

    // MARK: - I/O

    private func scheduleFlush() {
        guard !flushScheduled else { return }
        flushScheduled = true
        eventLoop.execute { self.flushNow() }
    }

    private func flushNow() {
        flushScheduled = false
        guard machine.isReady, let handler, output.readableBytes > 0 else { return }
        handler.writeAndFlush(output)
        if output.capacity > 1 << 20 {
            output = ByteBufferAllocator().buffer(capacity: 4096)
        } else {
            // In place when the socket took the bytes at once (the usual case), else a fresh buffer.
            output.clear()
        }
    }

    private func writeHandshake(auth: Bool, select: Bool, setName: Bool) {
        var buffer = ByteBufferAllocator().buffer(capacity: 128)
        if auth, let password = configuration.password {
            if let username = configuration.username {
                buffer.writeRedisCommand(["AUTH", username, password])
            } else {
                buffer.writeRedisCommand(["AUTH", password])
            }
        }
        if select {
            buffer.writeRedisCommand(["SELECT", String(configuration.database)])
        }
        if setName, let name = configuration.clientName {
            buffer.writeRedisCommand(["CLIENT", "SETNAME", name])
        }
        handler?.writeAndFlush(buffer)
    }

    private func startConnect() {
        epoch &+= 1
        let epoch = self.epoch
        startTimeoutChecks()
        let tls = configuration.tls
        let serverHostname = tls?.serverHostname(for: configuration.host)
        let handshakeTimeout = configuration.connectTimeout
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(configuration.connectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tls {
                        try sync.addHandler(NIOSSLClientHandler(context: tls.context, serverHostname: serverHostname))
                    }
                    try sync.addHandler(RedisChannelHandler(
                        connection: self, epoch: epoch, tlsHandshakeTimeout: tls == nil ? nil : handshakeTimeout))
                }
            }
        let connecting: EventLoopFuture<any Channel>
        if let address = try? SocketAddress(ipAddress: configuration.host, port: configuration.port) {
            connecting = bootstrap.connect(to: address)
        } else {
            connecting = bootstrap.connect(host: configuration.host, port: configuration.port)
        }
        connecting.whenFailure { error in
            self.connectFailed(epoch: epoch, error: error)
        }
    }

    private func connectFailed(epoch: UInt64, error: any Error) {
        eventLoop.assertInEventLoop()
        guard epoch == self.epoch, handler == nil else { return }
        run(machine.connectFailed(reason: Self.describe(error)))
    }

    private func scheduleReconnect(after delay: TimeAmount) {
        backoffTask?.cancel()
        backoffTask = eventLoop.scheduleTask(in: delay) {
            self.backoffTask = nil
            self.run(self.machine.backoffElapsed())
        }
    }

    private func startTimeoutChecks() {
        guard timeoutTask == nil else { return }
        let interval = TimeAmount.nanoseconds(
            max(configuration.commandTimeout.nanoseconds / 4, TimeAmount.milliseconds(10).nanoseconds))
        timeoutTask = eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            self.run(self.machine.timeoutCheck(now: .now()))
        }
    }

    /// A short reason for logs and `connectionFailed`.
    static func describe(_ error: any Error) -> String {
        if let channelError = error as? ChannelError, case .connectTimeout(let amount) = channelError {
            return "no connection within \(RedisClientError.format(amount))"
        }
        if let ioError = error as? IOError {
            return ioError.description
        }
        if let tlsProblem = RedisTLS.describe(error) {
            return tlsProblem
        }
        return String(describing: error)
    }
}
