import Foundation
@testable import Gateway
import Testing

/// Item 4 of issue 23, Redis's protected mode: no listening beyond loopback without a password
/// unless `server.protected_mode: no` says so.
@Suite struct ProtectedModeTests {
    @Test func aPublicAddressWithoutAPasswordIsRefusedWithTheWaysOut() async throws {
        for host in ["0.0.0.0", "::", "10.1.2.3", "gateway.internal"] {
            await #expect {
                _ = try await ConfigurationLoader.load(file: nil, overrides: ["server.host": host], environment: [:])
            } throws: { error in
                let text = "\(error)"
                return error is ProtectedModeError && text.contains("'\(host)'") && text.contains("server.requirepass")
                    && text.contains("server.protected_mode: no") && text.contains("127.0.0.1")
            }
        }
    }

    @Test func aPasswordUsersLoopbackOrProtectionOffLetItStart() async throws {
        let open = ["server.host": "0.0.0.0"]
        let withPassword = try await ConfigurationLoader.load(file: nil, overrides: open,
                                                              environment: ["QUICKSELL_SERVER_REQUIREPASS": "s3cret"])
        #expect(withPassword.server.host == "0.0.0.0")
        _ = try await ConfigurationLoader.load(file: nil, overrides: open,
                                               environment: ["QUICKSELL_SERVER_USERS": "api:apipass:read"])
        let file = try ConfigurationFiles.write("server:\n  host: 0.0.0.0\n  protected_mode: no\n")
        defer { ConfigurationFiles.remove(file) }
        let off = try await ConfigurationLoader.load(file: file, environment: [:])
        #expect(!off.server.protectedMode && off.maskedDescription.contains("server.protected_mode: no"))
        for host in ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"] {
            #expect(ProtectedMode.isLoopback(host), "\(host)")
        }
        for host in ["0.0.0.0", "128.0.0.1", "127.0.0", "127.0.0.1.5", "::", "host"] {
            #expect(!ProtectedMode.isLoopback(host), "\(host)")
        }
        let defaults = try await ConfigurationLoader.load(file: nil, environment: [:])
        #expect(defaults.server.protectedMode && defaults.maskedDescription.contains("server.protected_mode: yes"))
    }

    @Test func theExecutableRefusesToStart() async throws {
        let result = try await runProcess(try RepoPaths.gatewayExecutable(),
                                          ["--host", "0.0.0.0", "--port", "0", "--metrics-port", "0"])
        #expect(result.status == 1 && !result.timedOut)
        #expect(result.stderr.hasPrefix("quicksell-gateway: error: protected mode: server.host is '0.0.0.0'"))
        #expect(!result.stdout.contains("listening"))
    }
}
