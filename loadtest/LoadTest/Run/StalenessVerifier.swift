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
/// re-check passes if the GET equals either PostgreSQL value. It is retried up to three
/// times, 1 s apart; the read counts as **stale** only if every re-check fails, i.e. the
/// target kept serving a value PostgreSQL no longer had, seconds after the write —
/// far beyond any invalidation lag. Leaderboards are not verified (their invalidation is
/// coalesced by design).
public final class StalenessVerifier: Sendable {
    /// The verifier's counts for the report.
    public struct Counts: Sendable, Codable, Equatable {
        public var sampled = 0
        public var verified = 0
        public var suspect = 0
        public var stale = 0
        public var dropped = 0
        public var errors = 0
        public var staleKeys: [String] = []
    }

    private struct Sample: Sendable {
        var family: KeyFamily
        var id: Int
        var value: String?
        var attempts = 0
        var due: ContinuousClock.Instant = .now
    }

    private struct State: Sendable {
        var queue: [Sample] = []
        var counts = Counts()
    }

    private static let capacity = 5_000
    private let state = Mutex(State())
    private let postgresURL: String
    private let host: String
    private let port: Int
    private let done = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)

    init(postgresURL: String, host: String, port: Int) {
        self.postgresURL = postgresURL
        self.host = host
        self.port = port
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
            connection = try PostgresConnection(url: postgresURL, applicationName: "quicksell-loadtest verifier")
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

    /// Stops taking new work; suspects already waiting are still re-checked (up to ~3 s).
    func finish() -> Counts {
        done.store(true, ordering: .releasing)
        let deadline = Date().addingTimeInterval(10)
        while !finished.load(ordering: .acquiring), Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        return state.withLock { $0.counts }
    }

    var counts: Counts { state.withLock { $0.counts } }

    private func run(_ connection: PostgresConnection) {
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
            for sample in batch {
                switch truth(of: sample, connection) {
                case let .some(current) where current == sample.value:
                    bump { $0.verified += 1 }
                case .some:
                    var suspect = sample
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
                switch recheck(suspect, connection, &redis) {
                case true:
                    bump { $0.verified += 1 }
                case false where suspect.attempts < 2:
                    suspect.attempts += 1
                    suspect.due = now + .seconds(1)
                    waiting.append(suspect)
                case false:
                    let key = suspect.family.key(suspect.id)
                    bump { $0.verified += 1; $0.stale += 1; if $0.staleKeys.count < 20 { $0.staleKeys.append(key) } }
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

    /// PostgreSQL, GET through the target, PostgreSQL: passes if the GET matches either.
    private func recheck(_ sample: Sample, _ connection: PostgresConnection, _ redis: inout HiredisConnection?) -> Bool {
        if redis == nil { redis = try? HiredisConnection(host: host, port: port, timeoutSeconds: 2) }
        guard let client = redis, let before = truth(of: sample, connection) else { return false }
        let reply: HiredisReply
        do throws(HiredisError) {
            reply = try client.command(["GET", sample.family.key(sample.id)])
        } catch {
            redis = nil
            return false
        }
        let seen: String?
        switch reply {
        case let .string(text), let .status(text): seen = text
        case .null: seen = nil
        default: return false
        }
        guard let after = truth(of: sample, connection) else { return false }
        return seen == before || seen == after
    }
}
