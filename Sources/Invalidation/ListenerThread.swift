import Dispatch
import Foundation
import Logging
import Synchronization

/// The thread one source's listener runs on, and what its async side and its connection loop
/// share: the status, the stop flag, the first catch-up and the wait before reconnecting.
/// Async code starts and stops it without blocking; the loop is the listener's own.
final class ListenerThread: Sendable {
    let status = ListenerStatusBox()
    /// The first connection has caught up (or failed, or the start-up time passed).
    let firstAttempt = OneTimeEvent()
    private let stopping = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)
    /// Signalled by `stop()`, to cut short the wait before a reconnection.
    private let wake = DispatchSemaphore(value: 0)
    private let exited = OneTimeEvent()
    /// The longest `start()` waits for the first catch-up.
    private let startTimeout: Duration = .seconds(5)
    let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    var isStopping: Bool { stopping.load(ordering: .relaxed) }

    /// Runs `loop` on a new thread; returns once its first connection has caught up (or
    /// failed, or `startTimeout` passed), so that nothing is served from a cache that its
    /// recovery is about to clean.
    func start(_ loop: @escaping @Sendable () -> Void) async {
        guard !started.exchange(true, ordering: .relaxed) else { return }
        let thread = Thread { [self] in
            loop()
            firstAttempt.signal()
            status.withLock {
                $0.connected = false
                $0.caughtUp = false
            }
            exited.signal()
        }
        thread.name = "quicksell-invalidation-listener"
        thread.start()
        DispatchQueue.global().asyncAfter(deadline: .now() + startTimeout.dispatchInterval) { [firstAttempt] in
            firstAttempt.signal()
        }
        await firstAttempt.wait()
    }

    /// Asks the loop to stop and returns once the thread has exited.
    func stop() async {
        guard started.load(ordering: .relaxed) else { return }
        stopping.store(true, ordering: .relaxed)
        wake.signal()
        await exited.wait()
    }

    /// A connection failed (or could not be made): records it, logs an error not yet
    /// reported, and waits as the listener's state machine says (`stop()` cuts it short).
    func connectionFailed(_ error: any Error, reconnect: (String) -> [(delay: Duration, report: String?)]) {
        let reason = "\(error)"
        status.withLock {
            if $0.connected { $0.reconnects += 1 }
            $0.connected = false
            $0.caughtUp = false
            $0.lastError = reason
        }
        firstAttempt.signal()
        for (delay, report) in reconnect(reason) {
            if let report, !isStopping {
                logger.warning("invalidation listener disconnected; invalidation is degraded until it reconnects",
                               metadata: ["error": "\(report)"])
            }
            _ = wake.wait(timeout: .now() + delay.dispatchInterval)
        }
    }
}

extension ListenerThread {
    /// Detaches every fill in flight and drops every family's keys: what a gap that nothing can
    /// replay needs (a new replication slot, a new `LISTEN`). A fill that read a row during the
    /// gap must not store it afterwards, so the fills go first. Counted and logged; throws when
    /// Redis finished no step of it for `stallLimit` (a large Redis takes long, and may).
    func flushEverything(_ invalidator: Invalidator, reason: String, stallLimit: Duration = .seconds(30)) throws {
        invalidator.detachAllFills()
        let progress = ApplyProgress()
        let outcome = BlockingOutcome(invalidator.flushAllFamilies(progress: progress), progress: progress)
        guard let result = outcome.waitWhileProgressing(stallLimit: stallLimit) else { throw InvalidationError.timedOut }
        let removed = try result.get()
        status.withLock {
            $0.recoveries += 1
            $0.flushes += 1
        }
        logger.log(level: removed > 0 ? .notice : .info, "invalidation recovery: flushed every family",
                   metadata: ["reason": "\(reason)", "keys": "\(removed)"])
    }
}

/// A listener's status behind a lock: written on its thread, read by `INFO` on the loops.
final class ListenerStatusBox: Sendable {
    private let status = Mutex(ListenerStatus())

    func withLock<Result>(_ body: (inout ListenerStatus) -> Result) -> Result {
        status.withLock { body(&$0) }
    }
}

extension ListenerThread {
    /// Sends a batch's writes to Redis. Once the gateway stops, its event loops go away: nothing more is sent.
    func startApply(_ writes: [InvalidationWrite], _ invalidator: Invalidator) throws -> BlockingOutcome<Void> {
        guard !isStopping else { throw InvalidationError.stopping }
        let progress = ApplyProgress()
        return BlockingOutcome(invalidator.apply(writes, progress: progress), progress: progress)
    }

    /// Starts a flush of whole families instead of listed keys (`why`): counted and logged.
    func startFamilyFlush(_ flush: FamilyFlush, _ invalidator: Invalidator, why: String) throws -> BlockingOutcome<Void> {
        guard !isStopping else { throw InvalidationError.stopping }
        status.withLock { $0.familyFlushes += 1 }
        logger.notice("invalidation: \(why); flushing their families", metadata: [
            "families": "\(flush.families.map(\.name).sorted())",
            "transactions": "\(flush.transactionIDs.sorted().prefix(8))"])
        let progress = ApplyProgress()
        return BlockingOutcome(invalidator.flushFamilies(flush, progress: progress).map { _ in }, progress: progress)
    }
}
