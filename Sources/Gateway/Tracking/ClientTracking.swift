import CacheModel
import NIOCore
import ReadThrough
import Synchronization

/// Client-side caching (`CLIENT TRACKING`): the shared `TrackingTable` behind a lock, and the
/// connections its pushes are written to. Told of every invalidation once Redis has removed
/// the keys (`LocalCopies.invalidated…`); each push is written by the connection's own handler
/// on its event loop, in order with its replies.
final class ClientTracking: InvalidationObserver, Sendable {
    /// Where one connection's pushes go: its handler, reached on its event loop.
    struct Sink: Sendable {
        let eventLoop: any EventLoop
        let handler: NIOLoopBound<ClientConnectionHandler>
    }

    private struct State {
        var table: TrackingTable
        var sinks: [Int: Sink] = [:]
    }

    private let state: Mutex<State>
    /// Clients tracking now: an invalidation with none costs one atomic load.
    private let trackingClients = Atomic<Int>(0)
    let maxKeys: Int

    init(maxKeys: Int) {
        self.maxKeys = maxKeys
        self.state = Mutex(State(table: TrackingTable(maxKeys: maxKeys)))
    }

    /// `CLIENT TRACKING ON`: `sink` receives the client's own pushes (when it does not redirect).
    func enable(client: Int, options: TrackingOptions, sink: Sink) {
        let count = state.withLock { state in
            state.table.enable(client: client, options: options)
            state.sinks[client] = sink
            return state.table.trackingClients
        }
        trackingClients.store(count, ordering: .relaxed)
    }

    func disable(client: Int) {
        let count = state.withLock { state in
            state.table.disable(client: client)
            return state.table.trackingClients
        }
        trackingClients.store(count, ordering: .relaxed)
    }

    /// A connection subscribed to `__redis__:invalidate`: it receives the pushes redirected to it.
    func subscribe(client: Int, sink: Sink) {
        state.withLock { $0.sinks[client] = sink }
    }

    /// The connection closed.
    func connectionClosed(client: Int) {
        let count = state.withLock { state in
            state.table.disable(client: client)
            state.sinks.removeValue(forKey: client)
            return state.table.trackingClients
        }
        trackingClients.store(count, ordering: .relaxed)
    }

    /// `client` is about to read `keys`: remembered before the read, so that a write after it is announced.
    func remember(_ keys: [CacheKey], client: Int) {
        send(state.withLock { state in (state.table.remember(keys, client: client), state.sinks) })
    }

    /// What `CLIENT TRACKINGINFO` and `INFO` show.
    var counts: (clients: Int, keys: Int, evictions: Int) {
        state.withLock { ($0.table.trackingClients, $0.table.keyCount, $0.table.evictions) }
    }

    func keysInvalidated(_ keys: [CacheKey]) {
        guard trackingClients.load(ordering: .relaxed) > 0 else { return }
        send(state.withLock { state in (state.table.invalidate(keys), state.sinks) })
    }

    func familiesInvalidated(_ families: Set<KeyFamily>) {
        guard trackingClients.load(ordering: .relaxed) > 0 else { return }
        send(state.withLock { state in (state.table.invalidate(families: families), state.sinks) })
    }

    func everythingInvalidated() {
        guard trackingClients.load(ordering: .relaxed) > 0 else { return }
        send(state.withLock { state in (state.table.invalidateAll(), state.sinks) })
    }

    /// Writes each push on its target's event loop (outside the lock).
    private func send(_ work: (deliveries: [TrackingTable.Delivery], sinks: [Int: Sink])) {
        for delivery in work.deliveries {
            guard let sink = work.sinks[delivery.target] else { continue }  // redirect target gone: dropped
            let notice = delivery.notice
            sink.eventLoop.execute { sink.handler.value.trackingNotice(notice) }
        }
    }
}
