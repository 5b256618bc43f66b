/// Decides when the WAL a replication slot holds back is worth a log line: once when it
/// rises past the threshold, once when it falls back under, never on every reading (the
/// gateway reads it every few seconds and a stuck slot stays over for hours).
package struct SlotRetentionAlarm: Sendable, Equatable {
    package enum Event: Equatable {
        case crossedAbove
        case fellBelow
    }

    /// Bytes over which to warn; 0 never warns.
    package let thresholdBytes: Int64
    private var above = false

    package init(thresholdBytes: Int64) {
        self.thresholdBytes = thresholdBytes
    }

    /// Takes a reading; returns what to log, if anything.
    package mutating func observe(_ bytes: Int64) -> Event? {
        guard thresholdBytes > 0 else { return nil }
        let isAbove = bytes > thresholdBytes
        defer { above = isAbove }
        switch (above, isAbove) {
        case (false, true): return .crossedAbove
        case (true, false): return .fellBelow
        default: return nil
        }
    }
}
