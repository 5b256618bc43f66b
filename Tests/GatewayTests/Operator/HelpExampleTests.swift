import Foundation
import Gateway
import Testing
import TestSupport

/// Item 6 of issue 23: every example shown by `--help` of quicksell-cache, quicksell-gateway and
/// quicksell-loadtest runs, as printed, against a test gateway and database.
///
/// The examples name the development ports (gateway 6380, Redis 6390, PostgreSQL 5440) and
/// production sizes; the tests put in their own addresses and smaller sizes, and nothing else:
/// the arguments, their order and the flags' positions are the help's.
@Suite(.serialized) struct HelpExampleTests {
    /// The development addresses in an example, made the test's.
    private static func localised(_ example: String, gatewayPort: Int, database: String, redisURL: String) -> String {
        example
            .replacing(/postgresql:\/\/\S+/, with: database)
            .replacing(/redis:\/\/127\.0\.0\.1:6390/, with: redisURL)
            .replacing(/127\.0\.0\.1:6380/, with: "127.0.0.1:\(gatewayPort)")
            .replacing(/(-p|--port) 6380\b/) { "\($0.1) \(gatewayPort)" }
    }

    @Test func everyQuicksellCacheExampleRuns() async throws {
        // admin:secret, the credentials of the flush example's URL; the others authenticate
        // through QUICKSELL_GATEWAY_PASSWORD, and those without an address find the test's
        // gateway through QUICKSELL_GATEWAY_PORT (their default is 6380).
        let users = UserDirectory(requirePass: "secret", users: [("admin", "secret", .admin)])
        let harness = try await GatewayHarness(label: "help_cache", users: users, setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        let admin = try harness.database.connect()
        let screens = try await HelpExamples.screens(try RepoPaths.builtExecutable("quicksell-cache"))
        let environment = try HelpExamples.environment([
            "QUICKSELL_GATEWAY_PASSWORD": "secret", "QUICKSELL_GATEWAY_PORT": String(harness.port),
            "QUICKSELL_POSTGRES_URL": harness.database.url,
            "QUICKSELL_SCHEMA_DIR": RepoPaths.root.appendingPathComponent("config/schema").path])
        var ran = 0
        for screen in screens {
            #expect(screen.wrapped.isEmpty, "\(screen.command) --help: example lines wrapped by the formatter: \(screen.wrapped)")
            #expect(screen.hardBreaks.isEmpty, "\(screen.command) --help: hard line breaks before \(screen.hardBreaks)")
            for example in screen.examples {
                #expect(example.hasPrefix("quicksell-cache "), "\(screen.command): \(example)")
                let command = Self.localised(example, gatewayPort: harness.port, database: harness.database.url,
                                             redisURL: harness.configuration.redisURL)
                if command.contains("slots --drop quicksell_oldhost_6380") {
                    // The slot of a gateway gone for good, as the example supposes.
                    _ = try admin.execute("SELECT pg_create_logical_replication_slot('quicksell_oldhost_6380', 'pgoutput')")
                }
                let watching = command.contains("--watch")
                let result = try await HelpExamples.run(command, in: NSTemporaryDirectory(), environment: environment,
                                                        timeout: watching ? .seconds(5) : .seconds(90))
                ran += 1
                if watching {
                    // Documented: redraws every 2 s until interrupted.
                    #expect(result.timedOut && result.stdout.components(separatedBy: "FAMILY").count >= 3,
                            "\(command): \(result.stdout) \(result.stderr)")
                    continue
                }
                #expect(result.status == 0 && !result.timedOut, "\(command) → \(result.status): \(result.stderr)")
                #expect(!result.stdout.isEmpty, "\(command) printed nothing")
                if command.contains("--invalidation-sources") {
                    _ = try admin.execute("SELECT quicksell_set_invalidation_emitters(true, true)")
                }
                if command.contains("slots --drop") { #expect(result.stdout.contains("dropped replication slot quicksell_oldhost_6380")) }
                if command.contains("| jq") { #expect(result.stdout.contains("\"hit_rate\"")) }
            }
        }
        #expect(ran >= 18, "only \(ran) examples found in \(screens.map(\.command))")
    }

    @Test func everyGatewayExampleRuns() async throws {
        let harness = try await GatewayHarness(
            label: "help_gateway", users: UserDirectory(requirePass: "secret"), setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        let screens = try await HelpExamples.screens(try RepoPaths.gatewayExecutable())
        var ran = 0
        for screen in screens {
            #expect(screen.wrapped.isEmpty, "\(screen.command) --help: example lines wrapped by the formatter: \(screen.wrapped)")
            #expect(screen.hardBreaks.isEmpty, "\(screen.command) --help: hard line breaks before \(screen.hardBreaks)")
            for example in screen.examples {
                // Started gateways take any free port (0) and the test's backends where the
                // example names none; redis-cli asks the test's gateway.
                let command = Self.localised(example.replacing("--port 6380", with: "--port 0"), gatewayPort: harness.port,
                                             database: harness.database.url, redisURL: harness.configuration.redisURL)
                let environment = try HelpExamples.environment([
                    "QUICKSELL_SERVER_PORT": "0", "QUICKSELL_METRICS_PORT": "0", "QUICKSELL_REDIS_URL": harness.configuration.redisURL,
                    "QUICKSELL_POSTGRES_URL": harness.database.url, "REDISCLI_AUTH": "secret",
                    "QUICKSELL_INVALIDATION_REPLICATION_SLOT": TestSlots.nextName()])
                ran += 1
                if command.hasPrefix("quicksell-gateway ") && !command.contains("--check-config") {
                    try await Self.startServeAndStop(command, environment: environment)
                    continue
                }
                let result = try await HelpExamples.run(command, in: RepoPaths.root.path, environment: environment)
                #expect(result.status == 0 && !result.timedOut, "\(command) → \(result.status): \(result.stderr)")
                if command.hasPrefix("redis-cli") {
                    #expect(result.stdout.contains("\"username\""), "\(command): \(result.stdout)")
                } else {
                    #expect(result.stdout.hasSuffix("configuration OK\n"), "\(command): \(result.stdout)")
                }
            }
        }
        #expect(ran == 4, "\(screens.map(\.examples))")
    }

    /// A gateway example runs until stopped: it must come up, serve a read, and exit 0 on SIGTERM.
    private static func startServeAndStop(_ command: String, environment: [String: String]) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", "cd '\(RepoPaths.root.path)' && exec \(command)"]
        process.environment = environment
        let errors = Pipe()
        let collected = OutputCollector()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        errors.fileHandleForReading.readabilityHandler = { collected.append($0.availableData, error: true) }
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        var port: Int?
        _ = await eventually(timeout: .seconds(15)) {
            if let match = collected.snapshot.1.firstMatch(of: /port=([0-9]+) .*listening/) { port = Int(match.1) }
            return port != nil || !process.isRunning
        }
        guard let port else {
            Issue.record("\(command) did not start: \(collected.snapshot.1)")
            return
        }
        #expect(try RedisTestClient(port: port).command("GET", "user:1").string?.contains("\"username\"") == true, "\(command)")
        process.terminate()
        let exited = await eventually(timeout: .seconds(10)) { !process.isRunning }
        #expect(exited && process.terminationStatus == 0, "\(command): \(collected.snapshot.1)")
        errors.fileHandleForReading.readabilityHandler = nil
    }

    @Test func everyLoadtestExampleRuns() async throws {
        // The seed example fills this database; the runs read it through an open gateway.
        let harness = try await GatewayHarness(label: "help_loadtest")
        defer { Task { await harness.stop() } }
        let screens = try await HelpExamples.screens(try RepoPaths.builtExecutable("quicksell-loadtest"))
        let redis = try #require(URLComponents(string: try TestEnvironment.redisURL()))
        let directory = NSTemporaryDirectory() + "qs-help-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let environment = try HelpExamples.environment(["QUICKSELL_POSTGRES_URL": harness.database.url])
        var ran = 0
        for screen in screens {
            #expect(screen.wrapped.isEmpty, "\(screen.command) --help: example lines wrapped by the formatter: \(screen.wrapped)")
            #expect(screen.hardBreaks.isEmpty, "\(screen.command) --help: hard line breaks before \(screen.hardBreaks)")
            var exports: [String] = []
            for example in screen.examples {
                // Smaller: 300 users, 1 s runs, 2,000 requests.
                let command = Self.localised(example, gatewayPort: harness.port, database: harness.database.url,
                                             redisURL: harness.configuration.redisURL)
                    .replacing(/--target 127\.0\.0\.1:6390/, with: "--target \(redis.host ?? "127.0.0.1"):\(redis.port ?? 6379)")
                    .replacing(/--users [0-9]+/, with: "--users 300")
                    .replacing(/--duration [0-9]+/, with: "--duration 1")
                    .replacing(/--requests [0-9]+/, with: "--requests 2000")
                if command.hasPrefix("export ") {
                    exports.append(command)
                    continue
                }
                #expect(command.hasPrefix("quicksell-loadtest "), "\(screen.command): \(example)")
                let result = try await HelpExamples.run((exports + [command]).joined(separator: " && "), in: directory,
                                                        environment: environment)
                ran += 1
                #expect(result.status == 0 && !result.timedOut, "\(command) → \(result.status): \(result.stderr)")
            }
        }
        #expect(ran == 5, "\(screens.map(\.examples))")
        #expect(FileManager.default.fileExists(atPath: directory + "/report.svg"))
    }
}
