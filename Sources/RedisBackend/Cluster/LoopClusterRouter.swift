import Logging
import NIOCore
import RESP

/// The cluster side of one event loop: its own copy of the slot map and one pipelined
/// `LoopConnection` per node, so that routing a command needs no lock and no thread hop.
///
/// Each command goes to the primary of its key's slot. `MOVED` updates the slot at once,
/// schedules a map refresh and resends; `ASK` resends once to the named node after `ASKING`;
/// `TRYAGAIN` and `CLUSTERDOWN` are retried after a short pause; a transport failure (node
/// gone) refreshes the map and retries once. Multi-key `MGET`, `DEL`, `UNLINK`, `EXISTS` whose
/// keys span slots are split per slot and their replies put back together.
///
/// All state is touched only on `eventLoop` (that is what makes `@unchecked Sendable` sound).
final class LoopClusterRouter: @unchecked Sendable {
    let eventLoop: any EventLoop
    private let configuration: RedisClusterConfiguration
    private let counters: RedisClientCounters
    private let logger: Logger
    private let topology: ClusterTopology

    private(set) var map: ClusterSlotMap?
    private var connections: [ClusterNodeAddress: LoopConnection] = [:]
    private var refreshing: EventLoopFuture<ClusterSlotMap>?
    /// A refresh was asked for while one was running: run another when it ends.
    private var refreshRequestedAgain = false
    private var refreshTask: RepeatedTask?
    private var isShutDown = false

    init(eventLoop: any EventLoop, configuration: RedisClusterConfiguration, counters: RedisClientCounters,
         topology: ClusterTopology, logger: Logger) {
        self.eventLoop = eventLoop
        self.configuration = configuration
        self.counters = counters
        self.topology = topology
        self.logger = logger
    }

    // MARK: - Sending

    /// Routes one command; `promise` gets the reply (on this loop).
    func send<Argument: RedisCommandArgument>(_ arguments: [Argument], promise: EventLoopPromise<RESPValue>) {
        eventLoop.assertInEventLoop()
        guard !arguments.isEmpty else {
            promise.fail(RedisClientError.emptyCommand)
            return
        }
        guard !isShutDown else {
            promise.fail(RedisClientError.shutDown)
            return
        }
        switch CommandRoute.of(arguments) {
        case .slot(let slot):
            sendToSlot(arguments, slot: slot, promise: promise, redirections: 0, retriedAfterFailure: false)
        case .crossSlot:
            // Redis answers CROSSSLOT: the caller must split such a call itself.
            sendToSlot(arguments, slot: arguments.count > 3 ? arguments[3].hashSlot : 0, promise: promise,
                       redirections: 0, retriedAfterFailure: false)
        case .split(let kind):
            sendSplit(arguments, kind: kind, promise: promise)
        case .anyNode:
            withMap(promise) { map in
                self.sendToNode(self.anyPrimary(of: map), arguments, promise: promise)
            }
        }
    }

    /// Sends to one node as it is (no redirection): `SCAN` cursors, per-node `INFO`, flushes.
    func send<Argument: RedisCommandArgument>(_ arguments: [Argument], toNode address: ClusterNodeAddress,
                                              promise: EventLoopPromise<RESPValue>) {
        eventLoop.assertInEventLoop()
        guard !isShutDown else {
            promise.fail(RedisClientError.shutDown)
            return
        }
        sendToNode(address, arguments, promise: promise)
    }

    /// The primaries of the current map (loaded first if needed).
    func primaries() -> EventLoopFuture<[ClusterNodeAddress]> {
        eventLoop.assertInEventLoop()
        if let map { return eventLoop.makeSucceededFuture(map.primaries) }
        return refresh().map(\.primaries)
    }

    // MARK: - Life cycle

    /// Loads the map, connects to every primary and starts the periodic refresh.
    func connectNow() -> EventLoopFuture<Void> {
        eventLoop.assertInEventLoop()
        startPeriodicRefresh()
        return refresh().flatMap { map in
            let attempts = map.primaries.map { self.connection(to: $0).connectNow() }
            return EventLoopFuture.andAllSucceed(attempts, on: self.eventLoop)
        }
    }

    /// Whether a map is loaded and every primary's connection is up.
    var isConnected: Bool {
        guard let map else { return false }
        return map.primaries.allSatisfy { connections[$0]?.isConnected ?? false }
    }

    func shutdown() -> EventLoopFuture<Void> {
        eventLoop.assertInEventLoop()
        isShutDown = true
        refreshTask?.cancel()
        refreshTask = nil
        let closings = connections.values.map { $0.shutdown() }
        return EventLoopFuture.andAllComplete(closings, on: eventLoop)
    }

    // MARK: - Routing

    private func sendToSlot<Argument: RedisCommandArgument>(
        _ arguments: [Argument], slot: Int, promise: EventLoopPromise<RESPValue>, redirections: Int,
        retriedAfterFailure: Bool
    ) {
        withMap(promise) { map in
            let address = map.owner(ofSlot: slot) ?? self.anyPrimary(of: map)
            self.sendAndFollow(arguments, to: address, asking: false, slot: slot, promise: promise,
                               redirections: redirections, retriedAfterFailure: retriedAfterFailure)
        }
    }

    /// Sends to `address` and acts on what comes back: a redirection is followed, a lost node
    /// leads to one retry after a map refresh, anything else is the answer.
    private func sendAndFollow<Argument: RedisCommandArgument>(
        _ arguments: [Argument], to address: ClusterNodeAddress, asking: Bool, slot: Int,
        promise: EventLoopPromise<RESPValue>, redirections: Int, retriedAfterFailure: Bool
    ) {
        let reply = eventLoop.makePromise(of: RESPValue.self)
        let connection = connection(to: address)
        if asking {
            // Its reply (+OK) is not needed; the command right behind it is what counts.
            connection.send(["ASKING"], promise: eventLoop.makePromise(of: RESPValue.self))
        }
        connection.send(arguments, promise: reply)
        reply.futureResult.whenComplete { result in
            switch result {
            case .success(let value):
                guard redirections < self.configuration.maxRedirections,
                      let redirection = ClusterRedirection(reply: value)
                else {
                    promise.succeed(value)
                    return
                }
                self.follow(redirection, arguments, slot: slot, promise: promise, redirections: redirections + 1,
                            retriedAfterFailure: retriedAfterFailure)
            case .failure(let error):
                guard !retriedAfterFailure, !self.isShutDown, Self.isNodeProblem(error) else {
                    promise.fail(error)
                    return
                }
                // The node may have failed over: read the map again, then try once more.
                self.refresh().whenComplete { _ in
                    self.sendToSlot(arguments, slot: slot, promise: promise, redirections: redirections,
                                    retriedAfterFailure: true)
                }
            }
        }
    }

    private func follow<Argument: RedisCommandArgument>(
        _ redirection: ClusterRedirection, _ arguments: [Argument], slot: Int, promise: EventLoopPromise<RESPValue>,
        redirections: Int, retriedAfterFailure: Bool
    ) {
        switch redirection {
        case .moved(let movedSlot, let address):
            if let map { self.map = map.moving(slot: movedSlot, to: address) }
            requestRefresh()
            sendAndFollow(arguments, to: address, asking: false, slot: slot, promise: promise,
                          redirections: redirections, retriedAfterFailure: retriedAfterFailure)
        case .ask(_, let address):
            sendAndFollow(arguments, to: address, asking: true, slot: slot, promise: promise,
                          redirections: redirections, retriedAfterFailure: retriedAfterFailure)
        case .tryAgain, .clusterDown:
            if redirection == .clusterDown { requestRefresh() }
            eventLoop.scheduleTask(in: configuration.retryDelay) {
                self.sendToSlot(arguments, slot: slot, promise: promise, redirections: redirections,
                                retriedAfterFailure: retriedAfterFailure)
            }
        }
    }

    private func sendToNode<Argument: RedisCommandArgument>(
        _ address: ClusterNodeAddress, _ arguments: [Argument], promise: EventLoopPromise<RESPValue>
    ) {
        let reply = eventLoop.makePromise(of: RESPValue.self)
        connection(to: address).send(arguments, promise: reply)
        reply.futureResult.whenComplete { result in
            if case .failure(let error) = result, Self.isNodeProblem(error) { self.requestRefresh() }
            promise.completeWith(result)
        }
    }

    /// `MGET`, `DEL`, `UNLINK`, `EXISTS`, `TOUCH` with keys of several slots: one command per
    /// slot (pipelined), replies put back in key order or added up.
    private func sendSplit<Argument: RedisCommandArgument>(
        _ arguments: [Argument], kind: CommandRoute.SplitKind, promise: EventLoopPromise<RESPValue>
    ) {
        let name = arguments[0]
        var groups: [Int: [Int]] = [:]
        var order: [Int] = []
        for index in 1..<arguments.count {
            let slot = arguments[index].hashSlot
            if groups[slot] == nil { order.append(slot) }
            groups[slot, default: []].append(index)
        }
        let (slotOrder, keysOfSlot) = (order, groups)
        let parts = order.map { slot -> EventLoopFuture<RESPValue> in
            let part = eventLoop.makePromise(of: RESPValue.self)
            let indices = groups[slot] ?? []
            sendToSlot([name] + indices.map { arguments[$0] }, slot: slot, promise: part, redirections: 0,
                       retriedAfterFailure: false)
            return part.futureResult
        }
        EventLoopFuture.whenAllSucceed(parts, on: eventLoop).whenComplete { result in
            switch result {
            case .failure(let error):
                promise.fail(error)
            case .success(let replies):
                if let error = replies.first(where: \.isErrorReply) {
                    promise.succeed(error)
                    return
                }
                switch kind {
                case .sumOfCounts:
                    var total: Int64 = 0
                    for reply in replies { if case .integer(let count) = reply { total += count } }
                    promise.succeed(.integer(total))
                case .mget:
                    var values = [RESPValue](repeating: .nullBulkString, count: arguments.count - 1)
                    for (slot, reply) in zip(slotOrder, replies) {
                        guard case .array(let items) = reply, let indices = keysOfSlot[slot], items.count == indices.count else {
                            promise.succeed(.error(ByteBuffer(string: "ERR unexpected MGET reply from a cluster node")))
                            return
                        }
                        for (position, index) in indices.enumerated() { values[index - 1] = items[position] }
                    }
                    promise.succeed(.array(values))
                }
            }
        }
    }

    // MARK: - Slot map

    /// Runs `body` with the map, loading it first when there is none yet.
    private func withMap(_ promise: EventLoopPromise<RESPValue>, _ body: @escaping @Sendable (ClusterSlotMap) -> Void) {
        if let map {
            body(map)
            return
        }
        refresh().whenComplete { result in
            switch result {
            case .success(let map): body(map)
            case .failure(let error): promise.fail(error)
            }
        }
    }

    /// Reads the slot map (one refresh at a time); the future completes with the new map.
    @discardableResult
    func refresh() -> EventLoopFuture<ClusterSlotMap> {
        if let refreshing { return refreshing }
        let future = loadMap(candidates: refreshCandidates(), lastError: nil)
        refreshing = future
        future.whenComplete { result in
            self.refreshing = nil
            if case .success(let map) = result { self.install(map) }
            if self.refreshRequestedAgain {
                self.refreshRequestedAgain = false
                self.refresh()
            }
        }
        return future
    }

    /// A refresh soon: now, or right after the one running (whose answer may predate the change).
    private func requestRefresh() {
        if refreshing != nil {
            refreshRequestedAgain = true
        } else {
            refresh()
        }
    }

    /// Known primaries first (starting from a different one each time), then replicas, then seeds.
    private func refreshCandidates() -> [ClusterNodeAddress] {
        var candidates: [ClusterNodeAddress] = []
        if let map {
            let rotation = Int.random(in: 0..<max(1, map.primaries.count))
            candidates += map.primaries[rotation...] + map.primaries[..<rotation]
            for primary in map.primaries { candidates += map.replicas[primary] ?? [] }
        }
        for seed in configuration.seeds where !candidates.contains(seed) { candidates.append(seed) }
        return candidates
    }

    private func loadMap(candidates: [ClusterNodeAddress], lastError: (any Error)?) -> EventLoopFuture<ClusterSlotMap> {
        guard let address = candidates.first, !isShutDown else {
            let reason = lastError.map { "\($0)" } ?? "no node to ask"
            return eventLoop.makeFailedFuture(RedisClientError.connectionFailed(
                address: configuration.seedList, reason: "cannot read the cluster slot map: \(reason)"))
        }
        let reply = eventLoop.makePromise(of: RESPValue.self)
        connection(to: address).send(["CLUSTER", "SLOTS"], promise: reply)
        return reply.futureResult.flatMapThrowing { value in
            try ClusterSlotMap(clusterSlotsReply: value, defaultHost: address.host)
        }.flatMapError { error in
            self.loadMap(candidates: Array(candidates.dropFirst()), lastError: error)
        }
    }

    private func install(_ new: ClusterSlotMap) {
        let old = map
        map = new
        topology.update(new)
        guard old != new else { return }
        if let old, old.primaries != new.primaries {
            logger.notice("Redis Cluster primaries changed", metadata: [
                "primaries": "\(new.primaries.map(\.description).joined(separator: ","))",
                "previous": "\(old.primaries.map(\.description).joined(separator: ","))",
            ])
        }
        // Connections to nodes the cluster no longer lists are closed.
        let known = Set(new.primaries + new.replicas.values.joined())
        for (address, connection) in connections where !known.contains(address) && !configuration.seeds.contains(address) {
            connections[address] = nil
            _ = connection.shutdown()
        }
    }

    private func startPeriodicRefresh() {
        guard refreshTask == nil, !isShutDown else { return }
        let interval = configuration.refreshInterval
        refreshTask = eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            self.refresh()
        }
    }

    // MARK: - Helpers

    private func connection(to address: ClusterNodeAddress) -> LoopConnection {
        if let existing = connections[address] { return existing }
        let connection = LoopConnection(
            eventLoop: eventLoop, configuration: configuration.node(at: address), counters: counters, logger: logger)
        connections[address] = connection
        if refreshTask == nil { startPeriodicRefresh() }
        return connection
    }

    /// A map always has at least one primary (parsing refuses one without).
    private func anyPrimary(of map: ClusterSlotMap) -> ClusterNodeAddress {
        map.primaries[0]
    }

    /// A failure that a map refresh may cure (the node is gone, or slow to answer).
    private static func isNodeProblem(_ error: any Error) -> Bool {
        guard let error = error as? RedisClientError else { return false }
        switch error {
        case .connectionFailed, .connectionClosed, .timeout: return true
        case .overloaded, .authenticationFailed, .shutDown, .emptyCommand: return false
        }
    }
}

extension RESPValue {
    var isErrorReply: Bool {
        switch self {
        case .error, .bulkError: return true
        default: return false
        }
    }
}
