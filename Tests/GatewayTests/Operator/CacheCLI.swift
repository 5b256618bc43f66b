import Foundation
import Gateway
import TestSupport

/// Runs the built `quicksell-cache` executable against a test gateway.
enum CacheCLI {
    /// The executable next to the test bundle (same build configuration).
    static func executable() throws -> String {
        var candidates: [URL] = []
        if let runner = Bundle.main.executableURL {
            candidates.append(runner.deletingLastPathComponent().appendingPathComponent("quicksell-cache"))
        }
        candidates.append(RepoPaths.root.appendingPathComponent(".build/debug/quicksell-cache"))
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate.path) {
            return candidate.path
        }
        throw TestFailure("quicksell-cache executable not found (looked at \(candidates.map(\.path))); run `swift build --build-tests` first")
    }

    /// `quicksell-cache ARGS…` with no QUICKSELL_GATEWAY_* variables unless given in `environment`.
    static func run(_ arguments: [String], environment extra: [String: String] = [:], input: String? = nil,
                    timeout: Duration = .seconds(60)) async throws -> SubprocessResult {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("QUICKSELL_GATEWAY_") }
        environment.merge(extra) { $1 }
        let result = try await runProcess(try executable(), arguments, input: input, timeout: timeout, environment: environment)
        if result.timedOut { throw TestFailure("quicksell-cache \(arguments) timed out") }
        return result
    }

    /// Runs a subcommand against the harness's gateway (`--port` appended).
    static func run(_ harness: GatewayHarness, _ arguments: [String], extra: [String] = [],
                    timeout: Duration = .seconds(60)) async throws -> SubprocessResult {
        try await run(arguments + ["--port", String(harness.port)] + extra, timeout: timeout)
    }
}
