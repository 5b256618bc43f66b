import Foundation
import Gateway
import Testing

/// Real client libraries nobody here wrote (PyPI and Debian packages, installed by
/// scripts/install-deps.sh), each driving the everyday calls of an API tier against a gateway
/// with PostgreSQL behind it, through a logging proxy that fails the run when any command the
/// library sends on connect is refused (Tests/compat/run_client.py). A missing library fails.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ClientLibraryTests {
    static let libraries = [
        "redis-py-resp2", "redis-py-resp3", "redis-py-asyncio", "valkey-py", "coredis", "node-redis", "phpredis", "redis-rb",
    ]
    static let password = "compat-secret"

    @Test(arguments: libraries)
    func library(_ name: String) async throws {
        let psql = try Self.psql()
        let harness = try await GatewayHarness(label: "compat_\(name.replacingOccurrences(of: "-", with: "_"))",
                                               setUp: Fixtures.load)
        do {
            try await harness.waitForListener()
            try await withGateway(users: UserDirectory(requirePass: Self.password)) { protected in
                var environment = ProcessInfo.processInfo.environment
                environment["QS_GATEWAY_PORT"] = String(harness.port)
                environment["QS_AUTH_PORT"] = String(protected.localPort)
                environment["QS_AUTH_PASSWORD"] = Self.password
                environment["QS_PG_URL"] = harness.database.url
                environment["QS_PSQL"] = psql
                let result = try await runProcess(
                    "/usr/bin/env", ["python3", RepoPaths.compatScript("run_client.py"), name],
                    timeout: .seconds(150), environment: environment)
                #expect(!result.timedOut)
                #expect(result.status == 0, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
                #expect(result.stdout.contains("ok watch aborts after invalidation\n"), "\(result.stdout)")
                #expect(result.stdout.contains("ok default pipeline"), "\(result.stdout)")
                #expect(result.stdout.hasSuffix("ALL OK\n"), "\(result.stdout)")
                #expect(!result.stdout.contains("FAIL"))
            }
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    static func psql() throws -> String {
        guard let bin = ProcessInfo.processInfo.environment["QUICKSELL_PG_BIN"] else {
            throw TestFailure("QUICKSELL_PG_BIN is not set (scripts/env.sh sets it; run through scripts/run-tests.sh)")
        }
        return bin + "/psql"
    }
}
