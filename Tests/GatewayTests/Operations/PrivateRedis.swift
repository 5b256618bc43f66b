import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A redis-server of the test's own on a free loopback port, which the test may stop and
/// start again (on the same port) without disturbing the shared test Redis.
final class PrivateRedis: @unchecked Sendable {
    let port: Int
    /// Where `SAVE` writes and a restart loads `dump.rdb` from; nil: nothing persists.
    let dataDirectory: String?
    private var process: Process?

    init(dataDirectory: String? = nil) throws {
        port = try Self.freePort()
        self.dataDirectory = dataDirectory
        try start()
    }

    var url: String { "redis://127.0.0.1:\(port)" }

    func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        process.arguments = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--enable-debug-command", "local",
                             "--databases", "64"]
        if let dataDirectory { process.arguments? += ["--dir", dataDirectory, "--dbfilename", "dump.rdb"] }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        // Wait until it answers.
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if let client = try? RawClient(port: port, receiveTimeout: .seconds(1)),
               (try? client.command("PING")) != nil { return }
            usleep(20_000)
        }
        throw TestFailure("redis-server on port \(port) did not answer within 5 s")
    }

    /// Stops it by its PID (SIGKILL: the test runner's blocked signals are inherited).
    func stop() {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestFailure("socket() failed") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw TestFailure("bind() failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else { throw TestFailure("getsockname() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Splits raw RESP2 replies of simple strings, errors and bulk strings; returns each as
/// text (`+PONG`, `$42…`) and how many bytes were left over (a cut-off reply).
func splitReplies(_ bytes: [UInt8]) -> (replies: [String], leftover: Int) {
    var replies: [String] = []
    var index = 0
    func line(from start: Int) -> (String, Int)? {
        var cursor = start
        while cursor + 1 < bytes.count {
            if bytes[cursor] == 13 && bytes[cursor + 1] == 10 {
                return (String(decoding: bytes[start..<cursor], as: UTF8.self), cursor + 2)
            }
            cursor += 1
        }
        return nil
    }
    while index < bytes.count {
        guard let (header, next) = line(from: index) else { break }
        if header.hasPrefix("$"), let length = Int(header.dropFirst()), length >= 0 {
            guard next + length + 2 <= bytes.count else { break }
            replies.append(header + String(decoding: bytes[next..<(next + length)], as: UTF8.self))
            index = next + length + 2
        } else {
            replies.append(header)
            index = next
        }
    }
    return (replies, bytes.count - index)
}
