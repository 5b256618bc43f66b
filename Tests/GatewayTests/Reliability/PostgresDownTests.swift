import Foundation
import Gateway
import Testing
import TestSupport

/// With PostgreSQL unreachable, hits keep being served and misses fail fast with a
/// retryable error instead of hanging.
@Suite(.timeLimit(.minutes(1))) struct PostgresDownTests {
    @Test func hitsAreServedAndMissesFailFastWithTryAgain() async throws {
        let harness = try await GatewayHarness(
            label: "pg_down", postgresURL: "postgresql://postgres@127.0.0.1:1/nowhere?connect_timeout=1")
        defer { Task { await harness.stop() } }
        // A value already cached is served without PostgreSQL.
        _ = try harness.directRedis().command("SET", "user:7", #"{"id": 7}"#, "PX", "60000")
        let client = try harness.client()
        #expect(try client.command("GET", "user:7") == .string(#"{"id": 7}"#))

        let started = Date()
        let reply = try client.command("GET", "user:8")
        let elapsed = Date().timeIntervalSince(started)
        guard case .error(let message) = reply else {
            Issue.record("expected an error, got \(reply)")
            return
        }
        #expect(message.hasPrefix("TRYAGAIN"), "\(message)")
        #expect(message.contains("127.0.0.1:1"), "the error should name the address tried: \(message)")
        #expect(elapsed < 3, "the miss took \(elapsed) s to fail")
        // The connection stays usable, and INFO says invalidation is degraded.
        #expect(try client.command("GET", "user:7") == .string(#"{"id": 7}"#))
        #expect(try harness.invalidationInfo()["invalidation_status"] == "degraded")
    }
}
