import NIOCore
import ReadThrough

/// Runs one event loop's `InFlightAdmission`: charges and releases the bytes its clients'
/// requests await, and lets waiting clients run their requests in turn once room frees up,
/// from a task of their own (never from inside another client's reply).
///
/// Touched only on `eventLoop` (that is what makes `@unchecked Sendable` sound): every
/// connection handler of the loop holds the same one.
final class LoopAdmission: @unchecked Sendable {
    let eventLoop: any EventLoop
    private var admission: InFlightAdmission<ClientConnectionHandler>

    init(eventLoop: any EventLoop, capacity: Int, maxMisses: Int = .max) {
        self.eventLoop = eventLoop
        self.admission = InFlightAdmission(capacity: capacity, maxMisses: maxMisses)
    }

    /// A GET missed: nil when its fill may start (call `missEnded` when it ends), else why it is shed.
    func missStarts() -> FillShed? {
        admission.missStarts() ? nil : FillShed(missesInFlight: admission.missesInFlight)
    }

    func missEnded() {
        admission.missEnded()
    }

    func admits(pendingReplies: Int) -> Bool {
        admission.admits(pendingReplies: pendingReplies)
    }

    func charge(_ bytes: Int) {
        admission.charge(bytes)
    }

    func release(_ bytes: Int) {
        guard bytes > 0, admission.release(bytes) else { return }
        eventLoop.execute { self.resumeWaiters() }
    }

    /// `handler` has requests that found no room; `admissionGranted` runs them later.
    func wait(_ handler: ClientConnectionHandler) {
        eventLoop.assertInEventLoop()
        admission.wait(handler)
    }

    private func resumeWaiters() {
        admission.resumptionStarted()
        while let handler = admission.nextWaiter() { handler.admissionGranted() }
    }
}

/// One value per event loop of a group, made once when the server starts.
struct PerLoop<Value: Sendable>: Sendable {
    private let values: [ObjectIdentifier: Value]
    private let make: @Sendable (any EventLoop) -> Value

    init(group: any EventLoopGroup, make: @escaping @Sendable (any EventLoop) -> Value) {
        var values: [ObjectIdentifier: Value] = [:]
        for loop in group.makeIterator() { values[ObjectIdentifier(loop)] = make(loop) }
        self.values = values
        self.make = make
    }

    /// The value of `eventLoop`, or a new one for a loop the group did not list (never expected).
    subscript(eventLoop: any EventLoop) -> Value {
        values[ObjectIdentifier(eventLoop)] ?? make(eventLoop)
    }
}
