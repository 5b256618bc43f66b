import Synchronization

/// A flag that anyone may raise (a signal handler, the run's own clock) and that every
/// worker thread polls between batches.
public final class StopFlag: Sendable {
    private let raised = Atomic<Bool>(false)

    public init() {}

    public func raise() { raised.store(true, ordering: .relaxed) }

    public var isRaised: Bool { raised.load(ordering: .relaxed) }
}

/// The process-wide flag the SIGINT handler raises (a C signal handler cannot capture).
public let interruptFlag = StopFlag()

/// A counter shared by threads (measured requests against `--requests`).
final class SharedCounter: Sendable {
    private let value = Atomic<Int>(0)

    /// Adds and returns the new total.
    func add(_ amount: Int) -> Int { value.add(amount, ordering: .relaxed).newValue }

    var current: Int { value.load(ordering: .relaxed) }
}
