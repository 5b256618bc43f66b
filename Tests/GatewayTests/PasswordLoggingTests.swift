import Foundation
import Testing

/// The `quicksell-gateway` executable, run as a subprocess at trace level: neither a wrong
/// nor the right password ever reaches its output.
@Suite(.timeLimit(.minutes(1)))
struct PasswordLoggingTests {
    @Test func passwordsAreNeverLogged() async throws {
        let password = "Pw-\(UInt32.random(in: 100_000...999_999))-secret"
        let wrong = "Wrong-\(UInt32.random(in: 100_000...999_999))-guess"
        let gateway = try await GatewayProcess(arguments: ["--threads", "1", "--requirepass", password, "--log-level", "trace"])

        let client = try RawClient(port: gateway.port)
        let wrongPass = RESPValueText.wrongPass
        #expect(try client.command("PING") == .error("NOAUTH Authentication required."))
        #expect(try client.command("AUTH", wrong) == .error(wrongPass))
        #expect(try client.command("AUTH", "default", wrong) == .error(wrongPass))
        #expect(try client.command("HELLO", "3", "AUTH", "default", wrong) == .error(wrongPass))
        #expect(try client.command("AUTH", password) == .simpleString("OK"))
        #expect(try client.command("HELLO", "2", "AUTH", "default", password).text == nil)  // an array: accepted
        #expect(try client.command("CONFIG", "GET", "*").text == nil)
        #expect(try client.command("PING") == .simpleString("PONG"))
        #expect(try client.command("QUIT") == .simpleString("OK"))

        let (out, err, graceful) = await gateway.stop()
        #expect(graceful, "SIGTERM should stop the gateway")
        #expect(err.contains("listening"), "logging should be on: \(err)")
        #expect(!out.contains(password) && !err.contains(password), "the password appears in the gateway's output")
        #expect(!out.contains(wrong) && !err.contains(wrong), "a wrong password appears in the gateway's output")
    }
}

enum RESPValueText {
    static let wrongPass = "WRONGPASS invalid username-password pair or user is disabled."
}
