import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The `quicksell-gateway` executable, run as a subprocess at trace level: neither a wrong
/// nor the right password ever reaches its output.
@Suite(.timeLimit(.minutes(1)))
struct PasswordLoggingTests {
    @Test func passwordsAreNeverLogged() async throws {
        let executable = try RepoPaths.gatewayExecutable()
        let password = "Pw-\(UInt32.random(in: 100_000...999_999))-secret"
        let wrong = "Wrong-\(UInt32.random(in: 100_000...999_999))-guess"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["--host", "127.0.0.1", "--port", "0", "--threads", "1",
                             "--requirepass", password, "--log-level", "trace"]
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        let collected = OutputCollector()
        output.fileHandleForReading.readabilityHandler = { collected.append($0.availableData, error: false) }
        errors.fileHandleForReading.readabilityHandler = { collected.append($0.availableData, error: true) }
        try process.run()
        defer {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }

        // The log line "… port=PORT [Gateway] listening" on stderr. (The executable's stdout line
        // "listening on HOST:PORT" is block-buffered when stdout is a pipe, so it only shows at exit.)
        var port: Int?
        let started = await eventually(timeout: .seconds(10)) {
            let (_, err) = collected.snapshot
            if let match = err.firstMatch(of: /port=([0-9]+) .*listening/) { port = Int(match.1) }
            return port != nil
        }
        #expect(started, "the gateway did not report its port: \(collected.snapshot)")
        guard let port else { return }

        let client = try RawClient(port: port)
        #expect(try client.command("PING") == .error("NOAUTH Authentication required."))
        #expect(try client.command("AUTH", wrong) == .error("WRONGPASS invalid username-password pair or user is disabled."))
        #expect(try client.command("AUTH", "default", wrong) == .error("WRONGPASS invalid username-password pair or user is disabled."))
        #expect(try client.command("HELLO", "3", "AUTH", "default", wrong) == .error("WRONGPASS invalid username-password pair or user is disabled."))
        #expect(try client.command("AUTH", password) == .simpleString("OK"))
        #expect(try client.command("HELLO", "2", "AUTH", "default", password).text == nil)  // an array: accepted
        #expect(try client.command("CONFIG", "GET", "*").text == nil)
        #expect(try client.command("PING") == .simpleString("PONG"))

        process.terminate()  // SIGTERM: graceful shutdown, which logs too
        let exited = await eventually(timeout: .seconds(5)) { !process.isRunning }
        #expect(exited)
        if exited { process.waitUntilExit() }
        output.fileHandleForReading.readabilityHandler = nil
        errors.fileHandleForReading.readabilityHandler = nil
        collected.append(output.fileHandleForReading.readDataToEndOfFile(), error: false)
        collected.append(errors.fileHandleForReading.readDataToEndOfFile(), error: true)
        let (out, err) = collected.snapshot
        #expect(err.contains("listening"), "trace/info logging should be on: \(err)")
        #expect(!out.contains(password) && !err.contains(password), "the password appears in the gateway's output")
        #expect(!out.contains(wrong) && !err.contains(wrong), "a wrong password appears in the gateway's output")
    }
}
