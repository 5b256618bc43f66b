import Foundation
import Postgres
import Testing
import TestSupport

/// Statements with a client-side time limit (the fill pool's connections): answers come back
/// as with the blocking calls, and a statement left unanswered past the limit fails at the
/// limit and retires its connection. A server busy in `pg_sleep` stands in for a silent one:
/// to the client both are a statement without an answer.
@Suite struct ResponseTimeoutTests {
    private func connection(_ database: TestDatabase, limit: Int) throws -> PostgresConnection {
        try PostgresConnection(url: database.url, applicationName: "quicksell-tests",
                               responseTimeoutMilliseconds: limit, detectsDeadPeer: true)
    }

    @Test func answersArriveAsWithTheBlockingCalls() throws {
        let database = try TestDatabase(label: "response_answers", migrated: false)
        defer { database.drop() }
        let connection = try connection(database, limit: 2_000)
        let last = try connection.execute("CREATE TEMP TABLE t (n int); INSERT INTO t VALUES (1), (2); SELECT sum(n) FROM t")
        #expect(last.scalar == "3", "the last statement's result, as PQexec")
        #expect(try connection.query("SELECT $1::int + 1", ["41"]).scalar == "42")
        try connection.prepare(name: "double", sql: "SELECT $1::int * 2", parameterCount: 1)
        #expect(try connection.executePrepared(name: "double", ["21"]).scalar == "42")
        #expect(throws: PostgresError.self) { try connection.execute("SELECT 1/0") }
        #expect(connection.isHealthy, "a statement's error leaves the connection usable")
        #expect(try connection.execute("SELECT 'still here'").scalar == "still here")
    }

    @Test func aStatementUnansweredPastTheLimitFailsThenAndRetiresTheConnection() throws {
        let database = try TestDatabase(label: "response_limit", migrated: false)
        defer { database.drop() }
        let connection = try connection(database, limit: 300)
        let started = Date()
        var failure: PostgresError?
        do {
            _ = try connection.query("SELECT pg_sleep(5)")
        } catch let error as PostgresError {
            failure = error
        }
        let elapsed = Date().timeIntervalSince(started)
        #expect("\(failure.map { "\($0)" } ?? "no error")".contains("no answer within 300 ms"))
        #expect(elapsed >= 0.3 && elapsed < 2, "failed after \(elapsed) s")
        #expect(!connection.isHealthy, "its answer may still come: the pool must not reuse it")
    }
}
