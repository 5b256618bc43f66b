import Foundation
import Gateway
import TestSupport

/// Runs the built `quicksell-cache` executable against a test gateway.
enum CacheCLI {
    /// `quicksell-cache ARGS…` with no QUICKSELL_GATEWAY_* variables unless given in `environment`.
    static func run(_ arguments: [String], environment extra: [String: String] = [:], input: String? = nil,
                    timeout: Duration = .seconds(60)) async throws -> SubprocessResult {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("QUICKSELL_GATEWAY_") }
        environment.merge(extra) { $1 }
        let result = try await runProcess(try RepoPaths.builtExecutable("quicksell-cache"), arguments, input: input, timeout: timeout, environment: environment)
        if result.timedOut { throw TestFailure("quicksell-cache \(arguments) timed out") }
        return result
    }

    /// Runs a subcommand against the harness's gateway (`--port` appended).
    static func run(_ harness: GatewayHarness, _ arguments: [String], extra: [String] = [],
                    timeout: Duration = .seconds(60)) async throws -> SubprocessResult {
        try await run(arguments + ["--port", String(harness.port)] + extra, timeout: timeout)
    }
}
