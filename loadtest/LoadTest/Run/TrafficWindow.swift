import CacheModel
import Histogram

/// What the client saw from one family in one window.
public struct FamilyTally: Sendable, Codable, Equatable {
    public var requests = 0
    public var values = 0
    public var nulls = 0
    public var errors = 0

    public init() {}

    mutating func add(_ other: FamilyTally) {
        requests += other.requests
        values += other.values
        nulls += other.nulls
        errors += other.errors
    }
}

/// Counters and latencies of a stretch of time (one second, or the measured run).
struct TrafficWindow: Sendable {
    var latency = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
    var requests = 0
    var errors: [String: Int] = [:]
    var families: [KeyFamily: FamilyTally] = [:]

    var errorCount: Int { errors.values.reduce(0, +) }

    mutating func add(_ other: TrafficWindow) {
        latency.add(other.latency)
        requests += other.requests
        errors.merge(other.errors, uniquingKeysWith: +)
        families.merge(other.families) { var sum = $0; sum.add($1); return sum }
    }

    mutating func reset() {
        latency.reset()
        requests = 0
        errors = [:]
        families = [:]
    }
}

/// One finished request, as a worker records it.
struct Outcome {
    enum Kind { case value, null, error(String) }
    var family: KeyFamily
    var kind: Kind
    var microseconds: UInt64
}
