/// A PostgreSQL snapshot as `pg_current_snapshot()` prints it (`xmin:xmax:xip,…`): which
/// transactions a read could see. The rule is the store script's (`RedisScripts.store`), for
/// the writers the gateway remembers itself (family flushes).
package struct PostgresSnapshot: Equatable, Sendable {
    package let xmin: UInt64
    package let xmax: UInt64
    package let inProgress: Set<UInt64>

    /// Nil when `text` is not of that form.
    package init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, let xmin = UInt64(parts[0]), let xmax = UInt64(parts[1]), xmin <= xmax else { return nil }
        var inProgress: Set<UInt64> = []
        for item in parts[2].split(separator: ",") {
            guard let transaction = UInt64(item) else { return nil }
            inProgress.insert(transaction)
        }
        self.xmin = xmin
        self.xmax = xmax
        self.inProgress = inProgress
    }

    /// Whether the read saw everything `transaction` committed: it finished before the snapshot.
    package func sees(_ transaction: UInt64) -> Bool {
        transaction < xmin || (transaction < xmax && !inProgress.contains(transaction))
    }
}
