import Foundation
@testable import Gateway
import Testing

/// Item 5 of issue 23: a key in the file or a `QUICKSELL_*` variable that configures nothing is
/// refused, naming the nearest valid key, while the scripts' own variables pass.
@Suite struct UnknownKeyTests {
    private func loadError(file text: String? = nil, environment: [String: String] = [:]) async throws -> String? {
        let path = try text.map { try ConfigurationFiles.write($0) }
        defer { path.map(ConfigurationFiles.remove) }
        do {
            _ = try await ConfigurationLoader.load(file: path, environment: environment)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func aMisspeltKeyOrSectionInTheFileIsNamedWithTheNearestValidKey() async throws {
        let sever = try await loadError(file: "sever:\n  port: 7000\n")
        #expect(sever?.contains("unknown key 'sever.port'; did you mean 'server.port'?") == true, "\(sever ?? "accepted")")
        let prot = try await loadError(file: "server:\n  prot: 7000\n")
        #expect(prot?.contains("unknown key 'server.prot'; did you mean 'server.port'?") == true, "\(prot ?? "accepted")")
        let listen = try await loadError(file: "listen:\n  port: 7000\n")
        #expect(listen?.contains("unknown key 'listen.port'; did you mean 'server.port'?") == true, "\(listen ?? "accepted")")
        let ttl = try await loadError(file: "cache:\n  ttl_seconds:\n    listings: 60\n")
        #expect(ttl?.contains("'cache.ttl_seconds.listings'; did you mean 'cache.ttl_seconds.listing'?") == true)
        // A value given to a section, and every problem at once, one per line.
        let several = try await loadError(file: "server: 7000\nlog:\n  levle: debug\n")
        #expect(several?.split(separator: "\n").count == 2, "\(several ?? "accepted")")
        #expect(several?.contains("unknown key 'server'") == true && several?.contains("did you mean 'log.level'?") == true)
        // An empty section is no key of its own.
        #expect(try await loadError(file: "cache:\nserver:\n  port: 7000\n") == nil)
    }

    @Test func aMisspeltEnvironmentVariableIsRefusedAndTheScriptsVariablesAreNot() async throws {
        let prot = try await loadError(environment: ["QUICKSELL_SERVER_PROT": "7000"])
        #expect(prot == "unknown environment variable QUICKSELL_SERVER_PROT; did you mean QUICKSELL_SERVER_PORT ('server.port')?")
        let section = try await loadError(environment: ["QUICKSELL_SEVER_PORT": "7000"])
        #expect(section?.contains("did you mean QUICKSELL_SERVER_PORT") == true)
        let stranger = try await loadError(environment: ["QUICKSELL_COLOUR": "blue"])
        #expect(stranger?.contains("unknown environment variable QUICKSELL_COLOUR") == true)
        // Other prefixes are not the gateway's business.
        #expect(try await loadError(environment: ["REDIS_PORT": "1", "PGPORT": "2", "QUICKSELLX": "3"]) == nil)

        // The environment `make run`, `make test` and the bench give the gateway: scripts/env.sh
        // and scripts/run-tests.sh sourced for real, with the shipped file.
        let environment = try Self.scriptsEnvironment()
        #expect(environment["QUICKSELL_REDIS_PORT"] != nil && environment["QUICKSELL_TEST_REDIS_URL"] != nil)
        #expect(try await loadError(file: try String(contentsOfFile: ConfigurationFiles.shipped, encoding: .utf8),
                                    environment: environment) == nil)
    }

    /// Every `QUICKSELL_*` name the scripts, the Makefile, CI, the bench, the CLIs and the test
    /// support read or set is a configuration key or a documented non-configuration variable,
    /// so that a variable added to a script cannot stop `make run`.
    @Test func everyVariableOfTheScriptsAndToolsIsKnown() throws {
        let known = Set(try ConfigurationLoader.knownKeys().map(ConfigurationKeys.environmentName))
        var unknown: [String: String] = [:]
        var seen = 0
        for file in try Self.scriptsAndTools() {
            let text = try String(contentsOf: file, encoding: .utf8)
            for match in text.matches(of: /QUICKSELL_[A-Z0-9_]*[A-Z0-9]\b/) {
                let name = String(match.output)
                seen += 1
                if !known.contains(name) && !ConfigurationKeys.isOtherVariable(name) {
                    unknown[name] = file.path.replacingOccurrences(of: RepoPaths.root.path + "/", with: "")
                }
            }
        }
        #expect(seen > 50, "the scan found almost nothing: \(seen)")
        #expect(unknown.isEmpty, "add these to ConfigurationKeys.otherVariables (or make them keys): \(unknown)")
    }

    /// The keys `--check-config` prints are exactly the keys the loader reads.
    @Test func checkConfigPrintsEveryKnownKey() async throws {
        let configuration = try await ConfigurationLoader.load(file: nil, environment: [:])
        let printed = configuration.maskedDescription.split(separator: "\n").compactMap { line in
            line.split(separator: ":", maxSplits: 1).first.map(String.init)
        }
        #expect(printed.sorted() == (try ConfigurationLoader.knownKeys()))
    }

    @Test func editDistanceAndTheClosestName() {
        #expect(ClosestName.editDistance("sever.port", "server.port") == 1)
        #expect(ClosestName.editDistance("", "abc") == 3)
        #expect(ClosestName.editDistance("kitten", "sitting") == 3)
        #expect(ClosestName.closest(to: "server.prot", among: ["server.host", "server.port"]) == "server.port")
        #expect(ClosestName.closest(to: "zzzzzzzzzzzzzzzzzz", among: ["server.port"]) == nil)
    }

    @Test func theExecutableRefusesATypoAtStartUpAndInCheckConfig() async throws {
        let file = try ConfigurationFiles.write("sever:\n  port: 7000\n")
        defer { ConfigurationFiles.remove(file) }
        let executable = try RepoPaths.gatewayExecutable()
        var environment = ProcessInfo.processInfo.environment
        for check in [true, false] {
            let result = try await runProcess(executable, ["--config", file, "--port", "0", "--metrics-port", "0"]
                + (check ? ["--check-config"] : []), environment: environment)
            #expect(result.status == 1 && !result.timedOut)
            #expect(result.stderr == "quicksell-gateway: error: \(file): unknown key 'sever.port'; did you mean 'server.port'?\n")
        }
        environment["QUICKSELL_SERVER_PROT"] = "7000"
        let result = try await runProcess(executable, ["--check-config"], environment: environment)
        #expect(result.status == 1 && result.stderr.contains("QUICKSELL_SERVER_PROT; did you mean QUICKSELL_SERVER_PORT"))
    }

    /// The variables scripts/env.sh and scripts/run-tests.sh export, as bash sees them.
    static func scriptsEnvironment() throws -> [String: String] {
        let root = RepoPaths.root.path
        let script = "source '\(root)/scripts/env.sh' && "
            + "eval \"$(grep -E '^export QUICKSELL_' '\(root)/scripts/run-tests.sh')\" && env -0"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script]
        process.environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        var environment: [String: String] = [:]
        for entry in data.split(separator: 0) {
            let text = String(decoding: entry, as: UTF8.self)
            guard let equals = text.firstIndex(of: "=") else { continue }
            environment[String(text[..<equals])] = String(text[text.index(after: equals)...])
        }
        return environment
    }

    /// scripts/, loadtest/ (shell, Python, Swift), the Makefile, .ci/, the CLI's sources and the
    /// tests' support code.
    static func scriptsAndTools() throws -> [URL] {
        let root = RepoPaths.root
        var files = [root.appendingPathComponent("Makefile")]
        let folders = ["scripts", "loadtest", ".ci", "Sources/quicksell-cache", "Tests/TestSupport", "Tests/GatewayTests/Support"]
        for folder in folders {
            guard let walker = FileManager.default.enumerator(at: root.appendingPathComponent(folder),
                                                              includingPropertiesForKeys: nil) else { continue }
            for case let url as URL in walker where ["sh", "py", "swift", ""].contains(url.pathExtension) {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                    files.append(url)
                }
            }
        }
        return files
    }
}
