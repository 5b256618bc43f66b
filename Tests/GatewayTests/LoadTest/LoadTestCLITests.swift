import Foundation
import LoadTest
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The built `quicksell-loadtest run`: one-line errors for bad arguments, Ctrl-C prints a
/// partial report.
@Suite(.serialized) struct LoadTestCLITests {
    @Test(arguments: [
        (["--mix", "user=1,bogus=2"], "unknown family 'bogus'"),
        (["--write-rate=-5"], "--write-rate"),
        (["--target", "127.0.0.1:1"], "cannot connect to 127.0.0.1:1"),
        (["--target", "nonsense"], "is not HOST:PORT"),
    ])
    func badArgumentsGiveOneLineErrorAndNonZeroExit(arguments: [String], expected: String) async throws {
        let result = try await runProcess(
            try RepoPaths.builtExecutable("quicksell-loadtest"),
            ["run", "--postgres-url", try TestEnvironment.postgresAdminURL(), "--duration", "1"] + arguments)
        #expect(result.status != 0)
        let lines = result.stderr.split(whereSeparator: \.isNewline)
        #expect(lines.count == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.hasPrefix("quicksell-loadtest: error: "), "stderr: \(result.stderr)")
        #expect(result.stderr.contains(expected), "stderr: \(result.stderr)")
    }

    // Disabled: under the test runner the child never gets past its first stderr line and
    // ignores SIGINT (inherited signal mask / pipe handling still to be diagnosed); the same
    // command from a shell stops on Ctrl-C and prints the partial report (exit 130).
    @Test
    func ctrlCStopsTheRunAndPrintsAPartialReport() async throws {
        // Aimed at the test Redis directly (hit-only, 50 preloaded user keys): Ctrl-C is the
        // tool's behaviour whatever the target.
        let database = try TestDatabase(label: "loadsigint")
        defer { database.drop() }
        let options = SeedOptions(users: 100, seed: 3, referenceTime: Int64(Date().timeIntervalSince1970))
        _ = try Seeder(connection: try database.connect(), options: options).run()
        let redisPort = try await referenceRedisPort()

        let process = Process()
        process.executableURL = URL(fileURLWithPath: try RepoPaths.builtExecutable("quicksell-loadtest"))
        process.arguments = ["run", "--target", "127.0.0.1:\(redisPort)", "--postgres-url", database.url,
                             "--mode", "hit-only", "--preload", "--mix", "user=1", "--max-keys", "50",
                             "--duration", "30", "--warmup", "0", "--connections", "2", "--threads", "1"]
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        let collected = OutputCollector()
        output.fileHandleForReading.readabilityHandler = { collected.append($0.availableData, error: false) }
        errors.fileHandleForReading.readabilityHandler = { collected.append($0.availableData, error: true) }
        let started = ContinuousClock.now
        try process.run()
        try await Task.sleep(for: .seconds(2))
        process.interrupt()  // SIGINT to this child only
        let exited = await eventually(timeout: .seconds(10)) { !process.isRunning }
        if !exited { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        output.fileHandleForReading.readabilityHandler = nil
        errors.fileHandleForReading.readabilityHandler = nil
        collected.append(output.fileHandleForReading.readDataToEndOfFile(), error: false)
        collected.append(errors.fileHandleForReading.readDataToEndOfFile(), error: true)
        let (stdout, stderr) = collected.snapshot
        #expect(exited, "still running 10 s after SIGINT; stderr: \(stderr)")
        #expect(ContinuousClock.now - started < .seconds(15))
        #expect(process.terminationStatus == 130, "status \(process.terminationStatus), stderr \(stderr)")
        #expect(stdout.contains("INTERRUPTED: partial report"), "stdout: \(stdout)")
        #expect(stdout.contains("throughput"), "stdout: \(stdout)")
        let requests = stdout.firstMatch(of: /requests\s+([0-9]+)/).flatMap { Int($0.1) } ?? 0
        #expect(requests > 0, "stdout: \(stdout)")
    }
}
