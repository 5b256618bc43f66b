import CacheModel
import Foundation
import HiredisClient

/// The parts of a target's `INFO` the report uses. A plain Redis has `stats` but no
/// `families`; twemproxy answers no `INFO` at all (then there is no snapshot).
public struct InfoSnapshot: Sendable, Equatable {
    /// The counters of one `family_NAME:hits=..,misses=..,…` line.
    public struct FamilyCounters: Sendable, Codable, Equatable {
        public var hits = 0
        public var misses = 0
        public var negativeHits = 0
        public var fills = 0
        public var absentFills = 0
        public var queries = 0

        public init() {}

        /// Lookups the gateway answered: hits (with negative hits) plus misses.
        public var lookups: Int { hits + negativeHits + misses }

        /// Hits (negative hits included) over lookups; nil with no lookups.
        public var hitRate: Double? { lookups == 0 ? nil : Double(hits + negativeHits) / Double(lookups) }

        public static func - (lhs: FamilyCounters, rhs: FamilyCounters) -> FamilyCounters {
            var delta = FamilyCounters()
            delta.hits = lhs.hits - rhs.hits
            delta.misses = lhs.misses - rhs.misses
            delta.negativeHits = lhs.negativeHits - rhs.negativeHits
            delta.fills = lhs.fills - rhs.fills
            delta.absentFills = lhs.absentFills - rhs.absentFills
            delta.queries = lhs.queries - rhs.queries
            return delta
        }
    }

    /// Every `key:value` line outside `families`.
    public var fields: [String: String] = [:]
    public var families: [KeyFamily: FamilyCounters] = [:]

    public init() {}

    public init(text: String) {
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            guard !line.hasPrefix("#"), let colon = line.firstIndex(of: ":") else { continue }
            let key = String(line[..<colon])
            let value = String(line[line.index(after: colon)...])
            if key.hasPrefix("family_"), let family = KeyFamily.allCases.first(where: { "family_\($0.infoName)" == key }) {
                families[family] = Self.parseFamily(value)
            } else {
                fields[key] = value
            }
        }
    }

    public func int(_ key: String) -> Int? { fields[key].flatMap { Int($0) } }

    /// keyspace_hits / (hits + misses), as Redis reports it.
    public var keyspaceHits: Int? { int("keyspace_hits") }
    public var keyspaceMisses: Int? { int("keyspace_misses") }

    private static func parseFamily(_ text: String) -> FamilyCounters {
        var counters = FamilyCounters()
        for field in text.split(separator: ",") {
            let parts = field.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let value = Int(parts[1]) else { continue }
            switch parts[0] {
            case "hits": counters.hits = value
            case "misses": counters.misses = value
            case "negative_hits": counters.negativeHits = value
            case "fills": counters.fills = value
            case "absent_fills": counters.absentFills = value
            case "queries": counters.queries = value
            default: break
            }
        }
        return counters
    }

    /// Several gateways' snapshots as one: family counters, keyspace hits and misses and fill
    /// queries added up; every other field from the first. Nil when any target gave none.
    static func combined(_ snapshots: [InfoSnapshot?]) -> InfoSnapshot? {
        guard snapshots.count > 1 else { return snapshots.first ?? nil }
        let present = snapshots.compactMap { $0 }
        guard present.count == snapshots.count, var sum = present.first else { return nil }
        for other in present.dropFirst() {
            for (family, counters) in other.families {
                var total = sum.families[family] ?? FamilyCounters()
                total.hits += counters.hits
                total.misses += counters.misses
                total.negativeHits += counters.negativeHits
                total.fills += counters.fills
                total.absentFills += counters.absentFills
                total.queries += counters.queries
                sum.families[family] = total
            }
            for key in ["keyspace_hits", "keyspace_misses", "postgres_queries"] {
                if let mine = sum.int(key), let theirs = other.int(key) { sum.fields[key] = String(mine + theirs) }
            }
        }
        return sum
    }

    /// `INFO` on a connection of its own; nil when the target does not answer it.
    static func fetch(host: String, port: Int) -> InfoSnapshot? {
        guard let connection = try? HiredisConnection(host: host, port: port, timeoutSeconds: 2),
              let text = (try? connection.command(["INFO"]))?.text else { return nil }
        return InfoSnapshot(text: text)
    }
}
