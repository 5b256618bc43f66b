import Synchronization

/// What the operator flushes are doing, for `INFO operator` and `QUICKSELL STATS`: a
/// family flush of a million keys takes seconds, and its progress must be visible.
final class FlushProgress: Sendable {
    struct Snapshot: Sendable {
        /// Family flushes running now.
        var running = 0
        /// The family of the flush that reported last.
        var currentFamily = ""
        /// Keys the running flush has removed so far.
        var currentRemoved = 0
        var completedFlushes = 0
        var totalRemoved = 0
        var lastFamily = ""
        var lastRemoved = 0
        var lastDurationMilliseconds = 0
    }

    private let state = Mutex(Snapshot())

    var snapshot: Snapshot { state.withLock { $0 } }

    func started(_ family: String) {
        state.withLock {
            $0.running += 1
            $0.currentFamily = family
            $0.currentRemoved = 0
        }
    }

    /// Records the keys removed so far; true when that crossed a multiple of `logEvery`.
    func advanced(_ family: String, removed: Int, logEvery: Int) -> Bool {
        state.withLock {
            let before = $0.currentRemoved
            $0.currentFamily = family
            $0.currentRemoved = removed
            return removed / logEvery > before / logEvery
        }
    }

    func finished(_ family: String, removed: Int, milliseconds: Int) {
        state.withLock {
            $0.running = max(0, $0.running - 1)
            $0.completedFlushes += 1
            $0.totalRemoved += removed
            $0.lastFamily = family
            $0.lastRemoved = removed
            $0.lastDurationMilliseconds = milliseconds
            if $0.running == 0 { $0.currentFamily = ""; $0.currentRemoved = 0 }
        }
    }

    /// Keys removed by single-key flushes (`QUICKSELL FLUSH`, `DEL`, `UNLINK`).
    func removedKeys(_ count: Int) {
        state.withLock { $0.totalRemoved += count }
    }

    /// `INFO operator` lines.
    var infoLines: [(String, String)] {
        let snapshot = self.snapshot
        return [
            ("flush_in_progress", String(snapshot.running)),
            ("flush_family", snapshot.currentFamily),
            ("flush_keys_removed", String(snapshot.currentRemoved)),
            ("flushes_completed", String(snapshot.completedFlushes)),
            ("flushed_keys_total", String(snapshot.totalRemoved)),
            ("last_flush_family", snapshot.lastFamily),
            ("last_flush_keys", String(snapshot.lastRemoved)),
            ("last_flush_ms", String(snapshot.lastDurationMilliseconds)),
        ]
    }
}
