/// A PostgreSQL snapshot in its text form (`xmin:xmax:xip,…`, as `pg_current_snapshot()`
/// prints it), able to say whether a transaction had ended when it was taken. The listener
/// uses it to skip notifications of writes it has already read from the outbox.
struct SnapshotVisibility: Sendable, Equatable {
    let xmin: UInt64
    let xmax: UInt64
    let inProgress: Set<UInt64>

    init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, let xmin = UInt64(parts[0]), let xmax = UInt64(parts[1]), xmin <= xmax else { return nil }
        var inProgress: Set<UInt64> = []
        for item in parts[2].split(separator: ",") {
            guard let xid = UInt64(item) else { return nil }
            inProgress.insert(xid)
        }
        self.xmin = xmin
        self.xmax = xmax
        self.inProgress = inProgress
    }

    /// True when transaction `xid` had committed (or aborted) before the snapshot: its
    /// outbox rows were visible to a query that ran with this snapshot.
    func sees(_ xid: UInt64) -> Bool {
        xid < xmin || (xid < xmax && !inProgress.contains(xid))
    }
}
