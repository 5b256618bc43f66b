/// The JSON document of `QUICKSELL STATS` (see the gateway's `StatsReport`), as the CLI reads it.
struct StatsReport: Decodable {
    struct Family: Decodable {
        var name: String
        var hits: Int
        var negativeHits: Int
        var misses: Int
        var hitRate: Double?
        var fills: Int
        var absentFills: Int
        var fillErrors: Int
        var fillLatencyAvgUsec: Int
        var invalidationsApplied: Int
        var lagP50Usec: Int?
        var lagP99Usec: Int?
    }

    struct Health: Decodable {
        var redis: String
        var postgres: String
        var listener: String
        var redisError: String?
        var postgresError: String?
    }

    struct Invalidation: Decodable {
        var status: String
        var lagP50Usec: Int?
        var lagP99Usec: Int?
        var lagMaxUsec: Int?
    }

    struct Flush: Decodable {
        var inProgress: Int
        var family: String
        var keysRemoved: Int
        var completed: Int
        var lastFamily: String
        var lastKeys: Int
        var lastMs: Int
    }

    var gatewayVersion: String
    var uptimeSeconds: Int
    var health: Health
    var families: [Family]
    var hits: Int
    var misses: Int
    var hitRate: Double?
    var invalidation: Invalidation
    var flush: Flush
}
