import Logging
import NIOCore
import RESP

/// The gateway's own client for Redis: one pipelined connection per event loop, so that a client
/// connection's handler talks to Redis on its own loop without a thread hop. Connections are made
/// lazily (or by `connectAll`), replies are matched to commands in order, and a lost connection is
/// re-established in the background with exponential backoff.
///
/// Not for commands that change the reply stream (SUBSCRIBE, MONITOR, CLIENT REPLY): the FIFO
/// pairing of commands and replies relies on exactly one reply per command.
public final class RedisClient: Sendable {
    public let configuration: RedisClientConfiguration
    private let group: any EventLoopGroup
    /// One connection per loop of `group`, fixed at init: lookups need no lock.
    private let connections: [ObjectIdentifier: LoopConnection]
    /// Round trips and failures so far.
    public let counters = RedisClientCounters()
    /// Cluster mode: one router per loop, fixed at init (empty in single-node mode).
    let routers: [ObjectIdentifier: LoopClusterRouter]
    /// Cluster mode: the latest slot map, for reports; nil in single-node mode.
    public let cluster: ClusterTopology?

    public init(
        configuration: RedisClientConfiguration,
        group: any EventLoopGroup,
        logger: Logger = Logger(label: "quicksell.redis")
    ) {
        self.configuration = configuration
        self.group = group
        var connections: [ObjectIdentifier: LoopConnection] = [:]
        for loop in group.makeIterator() {
            connections[ObjectIdentifier(loop)] = LoopConnection(
                eventLoop: loop, configuration: configuration, counters: counters, logger: logger)
        }
        self.connections = connections
        self.routers = [:]
        self.cluster = nil
    }

    /// A client of a Redis Cluster: every command is routed by its key's hash slot (see
    /// `LoopClusterRouter`); callers send exactly as to a single Redis.
    public init(
        cluster configuration: RedisClusterConfiguration,
        group: any EventLoopGroup,
        logger: Logger = Logger(label: "quicksell.redis")
    ) {
        self.configuration = configuration.node(at: configuration.seeds.first ?? ClusterNodeAddress(host: "127.0.0.1", port: 6379))
        self.group = group
        self.connections = [:]
        let topology = ClusterTopology(seeds: configuration.seeds)
        var routers: [ObjectIdentifier: LoopClusterRouter] = [:]
        for loop in group.makeIterator() {
            routers[ObjectIdentifier(loop)] = LoopClusterRouter(
                eventLoop: loop, configuration: configuration, counters: counters, topology: topology, logger: logger)
        }
        self.routers = routers
        self.cluster = topology
    }

    /// Sends one command on the connection that belongs to `eventLoop`; the future completes on that loop.
    /// A Redis error reply (-ERR ...) is a successful future holding RESPValue.error; transport problems fail the future.
    public func send(_ arguments: [ByteBuffer], on eventLoop: any EventLoop) -> EventLoopFuture<RESPValue> {
        sendCommand(arguments, on: eventLoop)
    }

    /// Sends `command key`; `receiver` gets the reply with `tag` on `eventLoop`, which must be
    /// the current loop. The hit path's form: when `eventLoop` is one of the client's own loops
    /// (the gateway's case) it allocates no promise, no future and no closure.
    public func send(
        _ command: ByteBuffer, key: ByteBuffer, on eventLoop: any EventLoop, receiver: any RedisReplyReceiver, tag: Int
    ) {
        eventLoop.preconditionInEventLoop()
        if let connection = connections[ObjectIdentifier(eventLoop)] {
            counters.sent.add(1, ordering: .relaxed)
            connection.send(command, key: key, receiver: receiver, tag: tag)
        } else {
            sendCommand([command, key], on: eventLoop).assumeIsolated().whenComplete { result in
                receiver.redisReplied(result, tag: tag)
            }
        }
    }

    /// Convenience for strings.
    public func send(_ arguments: [String], on eventLoop: any EventLoop) -> EventLoopFuture<RESPValue> {
        sendCommand(arguments, on: eventLoop)
    }

    /// Connects every event loop's connection now (start-up check); throws connectionFailed naming the address.
    public func connectAll() async throws {
        if !routers.isEmpty { return try await connectAllNodes() }
        try await Self.awaitAll(connections.values.map { connection in
            connection.eventLoop.flatSubmit { connection.connectNow() }
        })
    }

    /// Waits for every attempt, then throws the first failure (so no attempt is left running).
    static func awaitAll(_ attempts: [EventLoopFuture<Void>]) async throws {
        var firstError: (any Error)?
        for attempt in attempts {
            do {
                try await attempt.get()
            } catch {
                if firstError == nil { firstError = error }
            }
        }
        if let firstError { throw firstError }
    }

    /// Whether the connection of `eventLoop` is up right now (for health checks).
    public func isConnected(on eventLoop: any EventLoop) -> Bool {
        if !routers.isEmpty { return router(for: eventLoop).isConnected }
        return connection(for: eventLoop).isConnected
    }

    /// Whether every event loop's connection is up right now.
    public var isFullyConnected: Bool {
        connections.values.allSatisfy(\.isConnected) && routers.values.allSatisfy(\.isConnected)
    }

    /// Fails pending commands with `.shutDown`, closes every connection and stops reconnecting.
    public func shutdown() async {
        if !routers.isEmpty { return await shutdownRouters() }
        let closings = connections.values.map { connection in
            connection.eventLoop.flatSubmit { connection.shutdown() }
        }
        for closing in closings {
            try? await closing.get()
        }
    }

    // MARK: -

    private func sendCommand<Argument: RedisCommandArgument>(
        _ arguments: [Argument], on eventLoop: any EventLoop
    ) -> EventLoopFuture<RESPValue> {
        counters.sent.add(1, ordering: .relaxed)
        if !routers.isEmpty { return routedSend(arguments, on: eventLoop) }
        if let connection = connections[ObjectIdentifier(eventLoop)] {
            let promise = eventLoop.makePromise(of: RESPValue.self)
            if eventLoop.inEventLoop {
                connection.send(arguments, promise: promise)
            } else {
                eventLoop.execute { connection.send(arguments, promise: promise) }
            }
            return promise.futureResult
        }
        // A loop of another group: use one of ours and bring the result back.
        let connection = self.connection(for: group.next())
        let promise = connection.eventLoop.makePromise(of: RESPValue.self)
        connection.eventLoop.execute { connection.send(arguments, promise: promise) }
        return promise.futureResult.hop(to: eventLoop)
    }

    private func connection(for eventLoop: any EventLoop) -> LoopConnection {
        if let connection = connections[ObjectIdentifier(eventLoop)] { return connection }
        // `group.next()` always returns one of the loops the dictionary was built from.
        guard let fallback = connections[ObjectIdentifier(group.next())] ?? connections.values.first else {
            preconditionFailure("RedisClient: the event loop group has no event loops")
        }
        return fallback
    }
}
