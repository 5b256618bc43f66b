import CacheModel
import Foundation
@testable import LoadTest
import Testing
import TestSupport

/// The load tool's staleness verifier on its own, aimed at a plain Redis whose values the test
/// sets: a value PostgreSQL no longer has is stale once the patience is spent, and a target that
/// does not answer proves nothing (inconclusive, never stale: what a soak's faults look like).
@Suite(.serialized) struct StalenessVerifierTests {
    /// A database with user 1 and the JSON its family query builds for it.
    private static func userOne() throws -> (TestDatabase, String) {
        let database = try TestDatabase(label: "verifier")
        let connection = try database.connect()
        try connection.execute("INSERT INTO users (id, username, email, password_hash) VALUES (1, 'v', 'v@example.com', 'x')")
        let row = try #require(try connection.query(FamilyQueries.sql(.user), ["{1}"]).rows.first)
        return (database, try #require(row[1]))
    }

    /// Waits until the verifier has concluded every suspect (or the bound passes), then finishes it.
    private static func settle(_ verifier: StalenessVerifier, seconds: Double) async throws -> StalenessVerifier.Counts {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let counts = verifier.counts
            if counts.verified + counts.inconclusive + counts.errors >= counts.sampled { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return verifier.finish()
    }

    @Test func aValueStillServedAfterThePatienceIsStaleAndACurrentOneIsNot() async throws {
        let (database, fresh) = try Self.userOne()
        defer { database.drop() }
        let redis = try PrivateRedis()
        defer { redis.stop() }
        _ = try RedisTestClient(port: redis.port).command("SET", "user:1", "an old value")
        let verifier = StalenessVerifier(postgresURL: database.url, host: "127.0.0.1", port: redis.port, patienceSeconds: 1)
        try verifier.start()
        verifier.submit(family: .user, id: 1, value: "an old value")
        verifier.submit(family: .user, id: 1, value: fresh)
        let counts = try await Self.settle(verifier, seconds: 10)
        #expect(counts.sampled == 2 && counts.suspect == 1, "\(counts)")
        #expect(counts.stale == 1 && counts.staleKeys == ["user:1"], "\(counts)")
        #expect(counts.verified == 2 && counts.inconclusive == 0, "\(counts)")
    }

    @Test func aTargetThatDoesNotAnswerIsInconclusiveNotStale() async throws {
        let (database, _) = try Self.userOne()
        defer { database.drop() }
        let redis = try PrivateRedis()
        let port = redis.port
        redis.stop()  // nothing listens on the target's port any more
        let verifier = StalenessVerifier(postgresURL: database.url, host: "127.0.0.1", port: port, patienceSeconds: 1)
        try verifier.start()
        verifier.submit(family: .user, id: 1, value: "an old value")
        try await Task.sleep(for: .seconds(2.5))  // past the patience: re-checked, never concluded
        let counts = verifier.finish()
        #expect(counts.suspect == 1, "\(counts)")
        #expect(counts.stale == 0 && counts.inconclusive == 1, "\(counts)")
    }
}
