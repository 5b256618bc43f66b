import NIOCore
import RESP

/// Cluster mode of `RedisClient`, and the node-level calls that both modes answer: a
/// single-node client is a one-node "cluster" whose only primary is its configured address.
extension RedisClient {
    /// Whether this client routes over a Redis Cluster.
    public var isCluster: Bool { !routers.isEmpty }

    /// `items` grouped for multi-key script calls: on a Redis Cluster one group per hash slot of
    /// `key` (a script may only touch keys of one slot), on a single Redis all in one group.
    public func slotGroups<Item>(_ items: [Item], key: (Item) -> String) -> [[Item]] {
        guard isCluster else { return items.isEmpty ? [] : [items] }
        var bySlot: [Int: [Item]] = [:]
        for item in items { bySlot[HashSlot.of(key(item)), default: []].append(item) }
        return Array(bySlot.values)
    }

    /// The primaries that hold data: every node of the cluster map, or the one configured Redis.
    /// Commands without keys that must reach all data (`SCAN`, `FLUSHALL`, `INFO`) go to each.
    public func primaries(on eventLoop: any EventLoop) -> EventLoopFuture<[ClusterNodeAddress]> {
        guard isCluster else {
            return eventLoop.makeSucceededFuture([ClusterNodeAddress(host: configuration.host, port: configuration.port)])
        }
        let router = router(for: eventLoop)
        return router.eventLoop.flatSubmit { router.primaries() }.hop(to: eventLoop)
    }

    /// Sends one command to one node as it is, without redirection (single-node mode: to Redis).
    public func send(_ arguments: [ByteBuffer], toNode node: ClusterNodeAddress, on eventLoop: any EventLoop)
        -> EventLoopFuture<RESPValue> {
        sendToNode(arguments, node: node, on: eventLoop)
    }

    /// Convenience for strings.
    public func send(_ arguments: [String], toNode node: ClusterNodeAddress, on eventLoop: any EventLoop)
        -> EventLoopFuture<RESPValue> {
        sendToNode(arguments, node: node, on: eventLoop)
    }

    // MARK: - Internals used by RedisClient

    func routedSend<Argument: RedisCommandArgument>(_ arguments: [Argument], on eventLoop: any EventLoop)
        -> EventLoopFuture<RESPValue> {
        let router = router(for: eventLoop)
        let promise = router.eventLoop.makePromise(of: RESPValue.self)
        if router.eventLoop.inEventLoop {
            router.send(arguments, promise: promise)
        } else {
            router.eventLoop.execute { router.send(arguments, promise: promise) }
        }
        return router.eventLoop === eventLoop ? promise.futureResult : promise.futureResult.hop(to: eventLoop)
    }

    private func sendToNode<Argument: RedisCommandArgument>(
        _ arguments: [Argument], node: ClusterNodeAddress, on eventLoop: any EventLoop
    ) -> EventLoopFuture<RESPValue> {
        guard isCluster else { return sendToTheOnlyNode(arguments, on: eventLoop) }
        counters.sent.add(1, ordering: .relaxed)
        let router = router(for: eventLoop)
        let promise = router.eventLoop.makePromise(of: RESPValue.self)
        router.eventLoop.execute { router.send(arguments, toNode: node, promise: promise) }
        return promise.futureResult.hop(to: eventLoop)
    }

    /// Single-node mode: the node is the configured Redis.
    private func sendToTheOnlyNode<Argument: RedisCommandArgument>(_ arguments: [Argument], on eventLoop: any EventLoop)
        -> EventLoopFuture<RESPValue> {
        if let strings = arguments as? [String] { return send(strings, on: eventLoop) }
        if let buffers = arguments as? [ByteBuffer] { return send(buffers, on: eventLoop) }
        return eventLoop.makeFailedFuture(RedisClientError.emptyCommand)
    }

    func connectAllNodes() async throws {
        try await Self.awaitAll(routers.values.map { router in router.eventLoop.flatSubmit { router.connectNow() } })
    }

    func shutdownRouters() async {
        let closings = routers.values.map { router in router.eventLoop.flatSubmit { router.shutdown() } }
        for closing in closings { try? await closing.get() }
    }

    func router(for eventLoop: any EventLoop) -> LoopClusterRouter {
        if let router = routers[ObjectIdentifier(eventLoop)] { return router }
        // A loop of another group: any of ours (the reply hops back to the caller's loop).
        guard let fallback = routers.values.first else {
            preconditionFailure("RedisClient: cluster mode without event loops")
        }
        return fallback
    }
}
