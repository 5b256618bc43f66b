/// When a listener connects again and which errors it reports, for both sources' state
/// machines: the wait doubles after each failure up to `longest` and starts over once a
/// connection works; an error is reported once, not on every retry. Pure.
package struct ReconnectBackoff: Sendable {
    package let first: Duration
    package let longest: Duration
    private var next: Duration
    private var reportedError: String?

    package init(first: Duration = .milliseconds(50), longest: Duration = .seconds(2)) {
        self.first = first
        self.longest = longest
        self.next = first
    }

    /// A connection works: the next failure waits `first` again. True when an error had been
    /// reported (the listener then says it is connected again).
    package mutating func connected() -> Bool {
        next = first
        defer { reportedError = nil }
        return reportedError != nil
    }

    /// A connection failed: how long to wait, and the error to report (nil: already reported).
    package mutating func failed(reason: String) -> (delay: Duration, report: String?) {
        let delay = next
        next = min(next * 2, longest)
        defer { reportedError = reason }
        return (delay, reason == reportedError ? nil : reason)
    }
}
