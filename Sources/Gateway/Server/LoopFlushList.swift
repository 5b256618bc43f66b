import NIOCore

/// The client connections of one event loop that have replies waiting to be flushed.
///
/// A Redis read completes the GETs of many clients at once; each client's replies must leave
/// in one write, after the whole read. One task per tick that flushes every client that
/// asked (instead of one task per client) keeps the hit path at one scheduled task per loop
/// iteration however many clients it serves.
///
/// Touched only on `eventLoop` (that is what makes `@unchecked Sendable` sound): every
/// connection handler of the loop holds the same list.
final class LoopFlushList: @unchecked Sendable {
    let eventLoop: any EventLoop
    private var pending: [ClientConnectionHandler] = []
    private var spare: [ClientConnectionHandler] = []
    private var scheduled = false

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Flushes `handler` at the end of the current tick (the caller asks once per tick).
    func add(_ handler: ClientConnectionHandler) {
        eventLoop.assertInEventLoop()
        pending.append(handler)
        guard !scheduled else { return }
        scheduled = true
        eventLoop.execute { self.flushAll() }
    }

    private func flushAll() {
        scheduled = false
        // Swap in the spare array so that flushes that queue more work do not mutate the
        // array being walked, and neither array is reallocated tick after tick.
        swap(&pending, &spare)
        for handler in spare { handler.flushScheduledOutput() }
        spare.removeAll(keepingCapacity: true)
    }
}
