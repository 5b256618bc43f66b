import CacheModel

/// The result of one run, as printed (table) and written (`--json FILE`).
///
/// Meaning of the hit rates: `gatewayHitRate` is authoritative — the target's own
/// `INFO families` counters (hits incl. negative hits over hits + misses) between the
/// start and the end of the measured phase; a client cannot see a gateway miss.
/// `clientValueRate` is what the client saw: replies that carried a value over all
/// replies (null replies are absent rows, errors are errors). Per family the report
/// gives both, plus the client's request count beside the gateway's lookups.
public struct RunReport: Sendable, Codable {
    public struct Latency: Sendable, Codable {
        public var p50Micros: UInt64
        public var p90Micros: UInt64
        public var p99Micros: UInt64
        public var p999Micros: UInt64
        public var maxMicros: UInt64
        public var meanMicros: Double
    }

    public struct Family: Sendable, Codable {
        public var family: KeyFamily
        public var client: FamilyTally
        /// The gateway's counters over the measured phase (nil without `INFO families`).
        public var gateway: InfoSnapshot.FamilyCounters?
        public var gatewayHitRate: Double?
        public var clientValueRate: Double?
    }

    public struct Postgres: Sendable, Codable {
        /// Fill queries the gateway sent (INFO `postgres_queries` delta), nil if unknown.
        public var gatewayQueries: Int?
        public var gatewayQueriesPerSecond: Double?
        public var writesApplied: Int
        public var writesPerSecond: Double
        public var writeErrors: Int
        public var writesByKind: [String: Int]
    }

    public struct Invalidation: Sendable, Codable {
        public var lagP50Micros: Int?
        public var lagP99Micros: Int?
        public var lagMaxMicros: Int?
        public var lagSamples: Int?
    }

    public struct Progress: Sendable, Codable {
        public var second: Double
        public var requestsPerSecond: Double
        /// Gateway hit rate of the second when the target has INFO, else the client's value rate.
        public var hitRate: Double?
        public var p99Micros: UInt64
        public var errors: Int
        public var measuring: Bool
    }

    public var target: String
    public var mode: RunOptions.Mode
    public var connections: Int
    public var threads: Int
    public var pipelineDepth: Int
    public var zipfSkew: Double
    public var seed: UInt64
    public var mix: [String: Int]
    public var writeRate: Double
    public var interrupted: Bool
    public var warmupSeconds: Double
    public var measuredSeconds: Double
    public var requests: Int
    public var throughput: Double
    public var latency: Latency
    public var gatewayHitRate: Double?
    public var clientValueRate: Double?
    public var families: [Family]
    public var postgres: Postgres
    public var invalidation: Invalidation
    public var staleness: StalenessVerifier.Counts?
    public var errors: [String: Int]
    public var timeline: [Progress]
    /// Wall-clock time (Unix seconds) of the timeline's second 0, so that events recorded
    /// outside the run (a soak's faults) can be placed on it.
    public var startedAtUnixSeconds: Double?

    /// One target's part of a run against several (`--target A,B`): its readers' requests.
    public struct TargetShare: Sendable, Codable {
        public var target: String
        public var requests: Int
        public var throughput: Double
        public var errors: Int
    }

    /// Per target, when the run had several; nil otherwise.
    public var perTarget: [TargetShare]?

    /// Total errors of every kind.
    public var errorCount: Int { errors.values.reduce(0, +) }
}
