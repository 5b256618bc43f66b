/// A miss refused before its fill started because the event loop that read it already has as
/// many misses being filled as `limits.misses_in_flight_per_loop` allows: a flood of distinct
/// misses from many connections is answered at once, at the cost of a hit, instead of taking
/// the loop's time (and so the other clients' hits') with fills.
public struct FillShed: Error, CustomStringConvertible {
    public let missesInFlight: Int

    public init(missesInFlight: Int) {
        self.missesInFlight = missesInFlight
    }

    public var description: String {
        "gateway overloaded (\(missesInFlight) misses already being filled on this event loop)"
    }
}
