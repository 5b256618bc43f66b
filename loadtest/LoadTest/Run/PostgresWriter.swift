import Foundation
import Postgres
import Synchronization

/// The writer thread: applies `rate` writes a second to PostgreSQL, cycling through the
/// seven write kinds, paced against the clock (a slow write is caught up, never bunched
/// beyond one second's worth).
final class PostgresWriter: Sendable {
    /// Writes applied and failed, by kind.
    struct Counts: Sendable {
        var applied: [WriteKind: Int] = [:]
        var errors = 0
        var total: Int { applied.values.reduce(0, +) }
    }

    private let rate: Double
    private let seed: UInt64
    private let chooser: KeyChooser
    private let stop: StopFlag
    private let state = Mutex(Counts())
    private let finished = Atomic<Bool>(false)

    init(rate: Double, seed: UInt64, chooser: KeyChooser, stop: StopFlag) {
        self.rate = rate
        self.seed = seed
        self.chooser = chooser
        self.stop = stop
    }

    func start(postgresURL: String) throws(RunError) {
        let connection: PostgresConnection
        do {
            connection = try Self.connect(postgresURL)
        } catch {
            throw .postgres("\(error)")
        }
        let thread = Thread { [self] in
            run(connection, url: postgresURL)
            finished.store(true, ordering: .releasing)
        }
        thread.name = "loadtest-writer"
        thread.start()
    }

    /// Takes the counts so far and starts again from zero (end of warm-up).
    func takeCounts() -> Counts {
        state.withLock { counts in
            let taken = counts
            counts = Counts()
            return taken
        }
    }

    var counts: Counts { state.withLock { $0 } }

    func waitUntilFinished() {
        let deadline = Date().addingTimeInterval(10)
        while !finished.load(ordering: .acquiring), Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
    }

    /// A writer connection with every write statement prepared.
    private static func connect(_ url: String) throws -> PostgresConnection {
        let connection = try PostgresConnection(url: url, applicationName: "quicksell-loadtest writer",
                                                connectTimeoutSeconds: 2, statementTimeoutMilliseconds: 5_000)
        for kind in WriteKind.allCases {
            try connection.prepare(name: "qs_load_\(kind.rawValue)", sql: kind.sql, parameterCount: 1)
        }
        return connection
    }

    private func run(_ connection: PostgresConnection, url: String) {
        var connection = connection
        var random = SplitMix64(seed: seed, stream: 0x3717E)
        let start = Date()
        var done = 0
        while !stop.isRaised {
            let due = start.addingTimeInterval(Double(done) / rate)
            let wait = due.timeIntervalSinceNow
            if wait > 0 {
                Thread.sleep(forTimeInterval: min(wait, 0.05))
                continue
            }
            if wait < -1 { done = Int(Date().timeIntervalSince(start) * rate) }  // never bunch more than 1 s
            let kind = WriteKind.allCases[done % WriteKind.allCases.count]
            let id = chooser.uniformID(for: kind.idSource, &random)
            done += 1
            do {
                try connection.executePrepared(name: "qs_load_\(kind.rawValue)", [String(id)])
                state.withLock { $0.applied[kind, default: 0] += 1 }
            } catch {
                state.withLock { $0.errors += 1 }
                // PostgreSQL went away (restart, failover): reconnect, counting the writes missed.
                if !connection.isHealthy, let fresh = try? Self.connect(url) { connection = fresh }
            }
        }
    }
}
