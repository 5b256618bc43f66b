import Foundation
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The built `quicksell-gateway` executable running as a child process on a free loopback
/// port, with its stdout and stderr collected. Stop it with `stop()` (SIGTERM, then SIGKILL,
/// to this child's pid only).
final class GatewayProcess: @unchecked Sendable {
    let process = Process()
    let port: Int
    /// Whether the executable is a release build. Latency bounds are speed figures: they hold
    /// for the build users run; the debug build `make test` uses gets a looser bound that
    /// still catches a stall (BENCHMARKS.md holds the release figures).
    let isReleaseBuild: Bool
    private let output = Pipe()
    private let errors = Pipe()
    private let collected = OutputCollector()

    init(arguments: [String]) async throws {
        let executable = try RepoPaths.gatewayExecutable()
        isReleaseBuild = executable.contains("/release/")
        process.executableURL = URL(fileURLWithPath: executable)
        // A free metrics port unless the test picks one: the default (9121) may be taken by
        // another gateway on this machine, and the process would exit right after listening.
        let metrics = arguments.contains("--metrics-port") ? [] : ["--metrics-port", "0"]
        // A replication slot of its own (slot names are server-wide; TestDatabase.drop removes it).
        let slot = arguments.contains("--replication-slot") ? [] : ["--replication-slot", TestSlots.nextName()]
        let source = arguments.contains("--invalidation-source")
            ? [] : TestEnvironment.invalidationSource.map { ["--invalidation-source", $0] } ?? []
        process.arguments = ["--host", "127.0.0.1", "--port", "0"] + metrics + slot + source + arguments
        process.standardOutput = output
        process.standardError = errors
        let collected = self.collected
        output.fileHandleForReading.readabilityHandler = { collected.append($0.availableData, error: false) }
        errors.fileHandleForReading.readabilityHandler = { collected.append($0.availableData, error: true) }
        let process = self.process
        try process.run()
        // The log line "… port=PORT [Gateway] listening" on stderr. (The executable's stdout line
        // "listening on HOST:PORT" is block-buffered when stdout is a pipe, so it only shows at exit.)
        var found: Int?
        _ = await eventually(timeout: .seconds(10)) {
            if let match = collected.snapshot.1.firstMatch(of: /port=([0-9]+) .*listening/) { found = Int(match.1) }
            return found != nil || !process.isRunning
        }
        guard let found else {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            throw TestFailure("quicksell-gateway did not report its port: \(collected.snapshot)")
        }
        port = found
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Resident memory of the gateway process in KiB (VmRSS).
    func residentKiB() throws -> Int {
        try statusKiB("VmRSS")
    }

    /// The highest resident memory the gateway process has had, in KiB (VmHWM).
    func peakResidentKiB() throws -> Int {
        try statusKiB("VmHWM")
    }

    private func statusKiB(_ field: String) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)
        let line = status.split(whereSeparator: \.isNewline).first { $0.hasPrefix(field + ":") }
        guard let line, let value = Int(line.dropFirst(field.count + 1).filter(\.isNumber)) else {
            throw TestFailure("no \(field) in /proc/\(process.processIdentifier)/status")
        }
        return value
    }

    /// Sends SIGTERM, waits up to 5 s for a graceful exit (else SIGKILL), and returns everything
    /// the process wrote to stdout and stderr, and whether it exited by itself.
    func stop() async -> (stdout: String, stderr: String, graceful: Bool) {
        process.terminate()
        let graceful = await eventually(timeout: .seconds(5)) { !process.isRunning }
        if !graceful { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        output.fileHandleForReading.readabilityHandler = nil
        errors.fileHandleForReading.readabilityHandler = nil
        collected.append(output.fileHandleForReading.readDataToEndOfFile(), error: false)
        collected.append(errors.fileHandleForReading.readDataToEndOfFile(), error: true)
        let (out, err) = collected.snapshot
        return (out, err, graceful)
    }
}
