import NIOCore

/// What a fill found in PostgreSQL for one key: the JSON, or nothing (an absent row),
/// with the TTL to store it under.
public struct FilledValue: Sendable {
    /// The JSON text; nil when the row does not exist (cached negatively).
    public let json: ByteBuffer?
    /// For leaderboards: seconds until the period ends (caps the TTL).
    public let secondsUntilPeriodEnd: Int?
    /// PostgreSQL's snapshot the value was read in (`xmin:xmax:xip,…`).
    public let snapshot: String

    public var isAbsent: Bool { json == nil }

    package init(json: ByteBuffer?, secondsUntilPeriodEnd: Int?, snapshot: String) {
        self.json = json
        self.secondsUntilPeriodEnd = secondsUntilPeriodEnd
        self.snapshot = snapshot
    }
}
