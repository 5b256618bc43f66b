import Foundation
import Gateway
import Testing

/// quicksell-cache's connection options: before or after the subcommand, redis-cli's short forms.
@Suite struct CLIConnectionOptionTests {
    @Test func connectionOptionsOnEitherSideOfTheSubcommandAndShortForms() async throws {
        let users = UserDirectory(requirePass: "secret", users: [("admin", "pw", .admin)])
        let harness = try await GatewayHarness(label: "cli_options", users: users, setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        let port = String(harness.port)
        let working: [[String]] = [
            ["--host", "127.0.0.1", "--port", port, "--password", "secret", "get", "user:1"],
            ["get", "user:1", "-h", "127.0.0.1", "-p", port, "-a", "secret"],
            ["-p", port, "--user", "admin", "-a", "pw", "get", "user:1"],
            ["-u", "redis://admin:pw@127.0.0.1:\(port)", "get", "user:1"],
            ["--url", "redis://127.0.0.1:\(port)", "get", "user:1", "-a", "secret"],
            // After the subcommand wins over before it.
            ["-p", "1", "-a", "wrong", "get", "user:1", "-p", port, "-a", "secret"],
        ]
        for arguments in working {
            let result = try await CacheCLI.run(arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            #expect(result.stdout.hasPrefix("user:1  "), "\(arguments): \(result.stdout)")
        }
        let unauthenticated = try await CacheCLI.run(["-p", port, "get", "user:1"])
        #expect(unauthenticated.status == 1 && unauthenticated.stderr.contains("requires authentication"))

        let help = try await CacheCLI.run(["--help"])
        #expect(help.status == 0 && help.stdout.contains("-h, --host <host>") && help.stdout.contains("-a, --password"))
        let subcommandHelp = try await CacheCLI.run(["stats", "--help"])
        #expect(subcommandHelp.status == 0 && subcommandHelp.stdout.contains("-p, --port <port>"))
        // migrate and slots talk to PostgreSQL: a gateway option there would be ignored, so it is refused.
        let migrate = try await CacheCLI.run(["-p", port, "migrate"])
        #expect(migrate.status != 0 && migrate.stderr.contains("migrate talks to PostgreSQL"), "\(migrate.stderr)")
        let slots = try await CacheCLI.run(["slots", "--host", "db"])
        #expect(slots.status != 0 && slots.stderr.contains("--host would be ignored"), "\(slots.stderr)")
    }
}
