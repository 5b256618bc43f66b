import CacheModel
import Foundation
import HiredisClient
import Postgres
import Synchronization

/// Checks a sample of the reads against PostgreSQL, allowing for writes in flight.
///
/// The rule: a sampled read of key K that returned V is **fresh** if V equals K's value
/// in PostgreSQL queried right after the read (same SQL as the gateway). Otherwise it is
/// **suspect** (a write may have landed between the read and the query, or the gateway
/// may not yet have processed its invalidation). A suspect is re-checked after 1 s with
/// a bracketed read: PostgreSQL before, GET through the target, PostgreSQL after; the
/// re-check passes if the GET equals either PostgreSQL value. It is retried 1 s apart for
/// `patience` seconds (3 by default); the read counts as **stale** only if the re-check still
/// finds a different value then, i.e. the target kept serving a value PostgreSQL no longer
/// had, seconds after the write — far beyond any invalidation lag. A soak with bulk writes
/// sets the patience to the lag the README states for them. A re-check that cannot conclude
/// (PostgreSQL or the target down, an error reply: the faults of a soak) proves nothing
/// either way: it is retried, and after `patience` + 30 s counted `inconclusive`, never stale.
/// Leaderboards are not verified (their invalidation is coalesced by design).
public final class StalenessVerifier: Sendable {
    /// The verifier's counts for the report.
    public struct Counts: Sendable, Codable, Equatable {
        public var sampled = 0
        public var verified = 0
        public var suspect = 0
        public var stale = 0
        public var dropped = 0
        public var errors = 0
        /// Suspects whose re-checks never concluded (PostgreSQL or the target unreachable).
        public var inconclusive = 0
        public var staleKeys: [String] = []
    }

    private struct Sample: Sendable {
        var family: KeyFamily
        var id: Int
        var value: String?
        var suspectSince: ContinuousClock.Instant = .now
        var due: ContinuousClock.Instant = .now
    }

    /// What one bracketed re-check found.
    private enum Recheck { case fresh, differs, unknown }

    /// How long an inconclusive suspect is retried past the patience before it is given up.
    private static let inconclusiveGrace: Duration = .seconds(30)

    private struct State: Sendable {
        var queue: [Sample] = []
        var counts = Counts()
    }

    private static let capacity = 5_000
    private let state = Mutex(State())
    private let postgresURL: String
    private let host: String
    private let port: Int
    private let patience: Duration
    private let done = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)

    init(postgresURL: String, host: String, port: Int, patienceSeconds: Double = 3) {
        self.postgresURL = postgresURL
        self.host = host
        self.port = port
        self.patience = .milliseconds(Int64((patienceSeconds * 1_000).rounded()))
    }

    /// Called by a reader for a sampled read (never blocks).
    func submit(family: KeyFamily, id: Int, value: String?) {
        state.withLock { state in
            state.counts.sampled += 1
            if state.queue.count >= Self.capacity {
                state.counts.dropped += 1
            } else {
                state.queue.append(Sample(family: family, id: id, value: value))
            }
        }
    }

    func start() throws(RunError) {
        let connection: PostgresConnection
        do {
            connection = try connect()
        } catch {
            throw .postgres("\(error)")
        }
        let thread = Thread { [self] in
            run(connection)
            finished.store(true, ordering: .releasing)
        }
        thread.name = "loadtest-verifier"
        thread.start()
    }

    /// Stops taking new work; suspects already waiting are still re-checked (up to the patience).
    func finish() -> Counts {
        done.store(true, ordering: .releasing)
        let patienceSeconds = Double(patience.components.seconds) + Double(patience.components.attoseconds) / 1e18
        let deadline = Date().addingTimeInterval(patienceSeconds + 10)
        while !finished.load(ordering: .acquiring), Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        return state.withLock { $0.counts }
    }

    var counts: Counts { state.withLock { $0.counts } }

    private func connect() throws -> PostgresConnection {
        try PostgresConnection(url: postgresURL, applicationName: "quicksell-loadtest verifier", connectTimeoutSeconds: 2)
    }

    private func run(_ first: PostgresConnection) {
        var connection = first
        var lastConnectAttempt = ContinuousClock.now
        var redis: HiredisConnection?
        var suspects: [Sample] = []
        while true {
            let stopping = done.load(ordering: .acquiring)
            var batch = state.withLock { state -> [Sample] in
                let taken = state.queue
                state.queue.removeAll(keepingCapacity: true)
                return taken
            }
            if stopping { batch.removeAll() }  // fresh samples after the end are not checked
            // PostgreSQL went away (a restart): a new connection, tried at most twice a second.
            if !connection.isHealthy, ContinuousClock.now - lastConnectAttempt >= .milliseconds(500) {
                lastConnectAttempt = .now
                if let fresh = try? connect() { connection = fresh }
            }
            for sample in batch {
                switch truth(of: sample, connection) {
                case let .some(current) where current == sample.value:
                    bump { $0.verified += 1 }
                case .some:
                    var suspect = sample
                    suspect.suspectSince = .now
                    suspect.due = .now + .seconds(1)
                    suspects.append(suspect)
                    bump { $0.suspect += 1 }
                case .none:
                    bump { $0.errors += 1 }
                }
            }
            let now = ContinuousClock.now
            var waiting: [Sample] = []
            for var suspect in suspects {
                guard suspect.due <= now else { waiting.append(suspect); continue }
                let waited = now - suspect.suspectSince
                switch recheck(suspect, connection, &redis) {
                case .fresh:
                    bump { $0.verified += 1 }
                case .differs where waited >= patience:
                    let key = suspect.family.key(suspect.id)
                    bump { $0.verified += 1; $0.stale += 1; if $0.staleKeys.count < 20 { $0.staleKeys.append(key) } }
                case .unknown where waited >= patience + Self.inconclusiveGrace || stopping && waited >= patience:
                    bump { $0.inconclusive += 1 }
                case .differs, .unknown:
                    suspect.due = now + .seconds(1)
                    waiting.append(suspect)
                }
            }
            suspects = waiting
            if stopping, suspects.isEmpty { return }
            if batch.isEmpty { Thread.sleep(forTimeInterval: 0.005) }
        }
    }

    private func bump(_ change: (inout Counts) -> Void) {
        state.withLock { change(&$0.counts) }
    }

    /// K's value in PostgreSQL now: `.some(nil)` for an absent row, `nil` if the query failed.
    private func truth(of sample: Sample, _ connection: PostgresConnection) -> String?? {
        guard sample.family.hasID,
              let result = try? connection.query(FamilyQueries.sql(sample.family), ["{\(sample.id)}"]),
              let row = result.rows.first, row.count > 1 else { return nil }
        return .some(row[1])
    }

    /// PostgreSQL, GET through the target, PostgreSQL: fresh if the GET matches either,
    /// unknown if any of the three could not be read.
    private func recheck(_ sample: Sample, _ connection: PostgresConnection, _ redis: inout HiredisConnection?) -> Recheck {
        if redis == nil { redis = try? HiredisConnection(host: host, port: port, timeoutSeconds: 2) }
        guard let client = redis, let before = truth(of: sample, connection) else { return .unknown }
        let reply: HiredisReply
        do throws(HiredisError) {
            reply = try client.command(["GET", sample.family.key(sample.id)])
        } catch {
            redis = nil
            return .unknown
        }
        let seen: String?
        switch reply {
        case let .string(text), let .status(text): seen = text
        case .null: seen = nil
        default: return .unknown
        }
        guard let after = truth(of: sample, connection) else { return .unknown }
        return seen == before || seen == after ? .fresh : .differs
    }
}
