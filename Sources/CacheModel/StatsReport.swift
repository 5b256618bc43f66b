import Foundation

/// What `QUICKSELL STATS` answers, as JSON: per-family counters, fill latency,
/// invalidations and their lag, the gateway's health and the flushes. JSON so that the CLI,
/// redis-cli users and scripts all read one stable document (keys in snake_case).
package struct StatsReport: Codable, Sendable {
    package struct Family: Codable, Sendable {
        package var name: String
        package var hits: Int
        package var negativeHits: Int
        package var misses: Int
        /// (hits + negative hits) / lookups; nil before the first lookup.
        package var hitRate: Double?
        package var fills: Int
        package var absentFills: Int
        package var queries: Int
        package var fillErrors: Int
        package var fillLatencyAvgUsec: Int
        package var invalidationsReceived: Int
        package var invalidationsApplied: Int
        package var lagP50Usec: Int?
        package var lagP99Usec: Int?

        package init(
            name: String, hits: Int, negativeHits: Int, misses: Int, hitRate: Double?, fills: Int, absentFills: Int,
            queries: Int, fillErrors: Int, fillLatencyAvgUsec: Int, invalidationsReceived: Int,
            invalidationsApplied: Int, lagP50Usec: Int?, lagP99Usec: Int?
        ) {
            self.name = name
            self.hits = hits
            self.negativeHits = negativeHits
            self.misses = misses
            self.hitRate = hitRate
            self.fills = fills
            self.absentFills = absentFills
            self.queries = queries
            self.fillErrors = fillErrors
            self.fillLatencyAvgUsec = fillLatencyAvgUsec
            self.invalidationsReceived = invalidationsReceived
            self.invalidationsApplied = invalidationsApplied
            self.lagP50Usec = lagP50Usec
            self.lagP99Usec = lagP99Usec
        }
    }

    package struct Health: Codable, Sendable {
        /// `ok` or `down`.
        package var redis: String
        package var postgres: String
        /// `ok`, `degraded` (disconnected, recovering) or `off` (invalidation disabled).
        package var listener: String
        package var redisError: String?
        package var postgresError: String?

        package init(redis: String, postgres: String, listener: String, redisError: String?, postgresError: String?) {
            self.redis = redis
            self.postgres = postgres
            self.listener = listener
            self.redisError = redisError
            self.postgresError = postgresError
        }
    }

    package struct Invalidation: Codable, Sendable {
        package var status: String
        package var notifications: Int
        package var recoveries: Int
        package var lagP50Usec: Int?
        package var lagP99Usec: Int?
        package var lagMaxUsec: Int?

        package init(
            status: String, notifications: Int, recoveries: Int, lagP50Usec: Int?, lagP99Usec: Int?, lagMaxUsec: Int?
        ) {
            self.status = status
            self.notifications = notifications
            self.recoveries = recoveries
            self.lagP50Usec = lagP50Usec
            self.lagP99Usec = lagP99Usec
            self.lagMaxUsec = lagMaxUsec
        }
    }

    package struct Flush: Codable, Sendable {
        package var inProgress: Int
        package var family: String
        package var keysRemoved: Int
        package var completed: Int
        package var keysRemovedTotal: Int
        package var lastFamily: String
        package var lastKeys: Int
        package var lastMs: Int

        package init(
            inProgress: Int, family: String, keysRemoved: Int, completed: Int, keysRemovedTotal: Int,
            lastFamily: String, lastKeys: Int, lastMs: Int
        ) {
            self.inProgress = inProgress
            self.family = family
            self.keysRemoved = keysRemoved
            self.completed = completed
            self.keysRemovedTotal = keysRemovedTotal
            self.lastFamily = lastFamily
            self.lastKeys = lastKeys
            self.lastMs = lastMs
        }
    }

    package var gatewayVersion: String
    package var uptimeSeconds: Int
    package var health: Health
    /// In `KeyFamily` order.
    package var families: [Family]
    package var hits: Int
    package var misses: Int
    package var hitRate: Double?
    package var invalidation: Invalidation
    package var flush: Flush
    /// Cluster mode: each primary with its key count (DBSIZE) or why it did not answer; absent otherwise.
    package var redisNodes: [RedisNode]?

    package var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// One Redis Cluster primary.
    package struct RedisNode: Codable, Sendable {
        package var address: String
        package var status: String
        /// Keys the node holds (DBSIZE), nil when it did not answer.
        package var keys: Int?
        package var slots: Int?
        package var error: String?

        package init(address: String, status: String, keys: Int?, slots: Int?, error: String?) {
            self.address = address
            self.status = status
            self.keys = keys
            self.slots = slots
            self.error = error
        }
    }

    /// Reads the document `json` wrote; nil when it is not one.
    package init?(json: String) {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        guard let report = try? decoder.decode(StatsReport.self, from: Data(json.utf8)) else { return nil }
        self = report
    }

    package init(
        gatewayVersion: String, uptimeSeconds: Int, health: Health, families: [Family], hits: Int, misses: Int,
        hitRate: Double?, invalidation: Invalidation, flush: Flush, redisNodes: [RedisNode]?
    ) {
        self.gatewayVersion = gatewayVersion
        self.uptimeSeconds = uptimeSeconds
        self.health = health
        self.families = families
        self.hits = hits
        self.misses = misses
        self.hitRate = hitRate
        self.invalidation = invalidation
        self.flush = flush
        self.redisNodes = redisNodes
    }
}
