/// How long the integration tests wait for something that takes time, chosen to hold while
/// other work keeps every core busy (issue 22: `make test` beside a build). A wait ends as soon
/// as its condition holds, so a generous bound costs a quiet machine nothing; a bound that proves
/// something fails fast keeps a wide gap to what it is told from instead of a tight figure.
enum TimeBounds {
    /// One write's invalidation reaching Redis (quiet: about a millisecond; on a saturated
    /// machine tens to hundreds, README "A machine saturated by writers").
    static let invalidation: Double = 5
    /// A detection or recovery the gateway polls for (health probe every 250 ms, confirmation
    /// every 100 ms, reconnect backoff up to 2 s).
    static let recovery: Double = 10
}
