import Foundation

/// What a finished subprocess left behind.
struct SubprocessResult: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
    var timedOut: Bool
}

/// Runs `executable` with `arguments`, feeding `input` on stdin, and kills it if it runs
/// longer than `timeout`. Output is drained concurrently so a chatty child never blocks.
func runProcess(
    _ executable: String, _ arguments: [String], input: String? = nil, timeout: Duration = .seconds(20),
    environment: [String: String]? = nil
) async throws -> SubprocessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let outPipe = Pipe(), errPipe = Pipe(), inPipe = Pipe()
    process.standardOutput = outPipe
    process.standardError = errPipe
    process.standardInput = inPipe
    let collected = OutputCollector()
    outPipe.fileHandleForReading.readabilityHandler = { handle in collected.append(handle.availableData, error: false) }
    errPipe.fileHandleForReading.readabilityHandler = { handle in collected.append(handle.availableData, error: true) }
    let exited = ExitSignal()
    process.terminationHandler = { _ in exited.signal() }
    try process.run()
    if let input { inPipe.fileHandleForWriting.write(Data(input.utf8)) }
    try? inPipe.fileHandleForWriting.close()

    let deadline = ContinuousClock.now + timeout
    var timedOut = false
    while !exited.isSignalled {
        if ContinuousClock.now >= deadline {
            timedOut = true
            process.terminate()  // SIGTERM this child only (by its pid)
            try? await Task.sleep(for: .milliseconds(200))
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            break
        }
        try await Task.sleep(for: .milliseconds(10))
    }
    process.waitUntilExit()
    outPipe.fileHandleForReading.readabilityHandler = nil
    errPipe.fileHandleForReading.readabilityHandler = nil
    collected.append(outPipe.fileHandleForReading.readDataToEndOfFile(), error: false)
    collected.append(errPipe.fileHandleForReading.readDataToEndOfFile(), error: true)
    let (out, err) = collected.snapshot
    return SubprocessResult(status: process.terminationStatus, stdout: out, stderr: err, timedOut: timedOut)
}

final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var out = Data()
    private var err = Data()

    func append(_ data: Data, error: Bool) {
        lock.lock()
        defer { lock.unlock() }
        if error { err.append(data) } else { out.append(data) }
    }

    var snapshot: (String, String) {
        lock.lock()
        defer { lock.unlock() }
        return (String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }
}

final class ExitSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false
    func signal() { lock.lock(); done = true; lock.unlock() }
    var isSignalled: Bool { lock.lock(); defer { lock.unlock() }; return done }
}

/// `redis-cli -h 127.0.0.1 -p PORT [--no-raw] args…`, returning its stdout.
func redisCLI(port: Int, _ arguments: [String], noRaw: Bool = true, extra: [String] = []) async throws -> String {
    var all = ["-h", "127.0.0.1", "-p", String(port)] + extra
    if noRaw { all.append("--no-raw") }
    all += arguments
    let result = try await runProcess("/usr/bin/redis-cli", all, timeout: .seconds(10))
    guard !result.timedOut else { throw TestFailure("redis-cli \(arguments) timed out") }
    return result.stdout
}
