import Synchronization

/// The most recent slot map any event loop read, for reports (`INFO`, stats, health): the
/// routers keep their own copies and never read this on the request path.
public final class ClusterTopology: Sendable {
    private let latest = Mutex<ClusterSlotMap?>(nil)
    private let refreshes = Atomic<Int>(0)

    /// The configured seed nodes, as reports name them.
    public let seeds: [ClusterNodeAddress]

    init(seeds: [ClusterNodeAddress]) {
        self.seeds = seeds
    }

    func update(_ map: ClusterSlotMap) {
        latest.withLock { $0 = map }
        refreshes.add(1, ordering: .relaxed)
    }

    /// The map, once one was read.
    public var map: ClusterSlotMap? { latest.withLock { $0 } }

    /// Slot map reads so far (periodic, after a redirection or a lost node).
    public var refreshCount: Int { refreshes.load(ordering: .relaxed) }
}
