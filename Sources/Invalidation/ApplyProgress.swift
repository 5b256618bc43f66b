import Synchronization

/// How far one apply or flush has got, counted in finished Redis calls: the listener gives up
/// on work that stopped moving, not on work that is long (a flush walks all of Redis, which
/// may hold many millions of keys). Written on the event loop, read on the listener's thread.
package final class ApplyProgress: Sendable {
    private let steps = Atomic<Int>(0)
    private let seen = Atomic<Int>(0)

    package init() {}

    /// One more call finished.
    package func step() {
        steps.add(1, ordering: .relaxed)
    }

    /// True when calls finished since the last look.
    package func advancedSinceLastLook() -> Bool {
        let now = steps.load(ordering: .relaxed)
        return seen.exchange(now, ordering: .relaxed) != now
    }
}
