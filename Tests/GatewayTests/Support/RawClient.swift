import Foundation
import NIOCore
import RESP

#if canImport(Glibc)
import Glibc
#endif

/// A blocking POSIX TCP client to 127.0.0.1 for sending arbitrary bytes and reading raw
/// replies. Every read is bounded by a receive timeout.
final class RawClient {
    let fd: Int32
    private var pending = ByteBuffer()
    private var decoder = RESPValueDecoder()

    /// `socketBufferBytes` fixes SO_RCVBUF and SO_SNDBUF before connecting (which turns off the
    /// kernel's autotuning), so a flood test fills the client's side in kilobytes, not megabytes.
    init(port: Int, receiveTimeout: Duration = .seconds(5), socketBufferBytes: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket() failed: errno \(errno)") }
        if var size = socketBufferBytes {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let error = errno
            close(fd)
            throw TestFailure("connect to 127.0.0.1:\(port) failed: errno \(error)")
        }
        setReceiveTimeout(receiveTimeout)
    }

    deinit { close(fd) }

    func setReceiveTimeout(_ timeout: Duration) {
        let (seconds, attoseconds) = timeout.components
        var value = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sends every byte (blocking).
    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent < 0 {
                if errno == EINTR { continue }
                throw TestFailure("send failed: errno \(errno)")
            }
            offset += sent
        }
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    /// Sends one command as a RESP multibulk request.
    func sendCommand(_ arguments: [String]) throws {
        var out = "*\(arguments.count)\r\n"
        for argument in arguments { out += "$\(argument.utf8.count)\r\n\(argument)\r\n" }
        try send(out)
    }

    /// Sends a command and reads its reply.
    func command(_ arguments: String...) throws -> RESPValue {
        try sendCommand(arguments)
        return try readReply()
    }

    /// Reads one complete reply, or fails if none arrives before the receive timeout or EOF.
    func readReply() throws -> RESPValue {
        while true {
            if let value = try decoder.decode(buffer: &pending) { return value }
            let chunk = try receiveChunk()
            guard let chunk else { throw TestFailure("connection closed before a complete reply") }
            pending.writeBytes(chunk)
        }
    }

    /// Reads until the server closes the connection (EOF or reset). Returns every byte
    /// received (including any left from earlier reads) and whether the close was seen
    /// before the receive timeout.
    func readUntilClosed() -> (bytes: [UInt8], closed: Bool) {
        var all = Array(pending.readableBytesView)
        pending.clear()
        while true {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                all += buffer[0..<count]
            } else if count == 0 {
                return (all, true)
            } else if errno == EINTR {
                continue
            } else {
                return (all, errno == ECONNRESET || errno == EPIPE)
            }
        }
    }

    /// One recv: bytes, nil at EOF; throws on timeout or error.
    private func receiveChunk() throws -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 { return Array(buffer[0..<count]) }
            if count == 0 { return nil }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { throw TestFailure("timed out waiting for a reply") }
            throw TestFailure("recv failed: errno \(errno)")
        }
    }

    /// Whether the peer has closed: a non-blocking peek sees EOF or a reset.
    var peerClosed: Bool {
        var byte: UInt8 = 0
        let count = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        if count == 0 { return true }
        if count < 0 { return errno == ECONNRESET }
        return false
    }
}

extension RESPValue {
    /// The text of a simple string, bulk string, verbatim string or error, for assertions.
    var text: String? {
        switch self {
        case .simpleString(let b), .bulkString(let b), .error(let b), .bulkError(let b):
            return String(buffer: b)
        case .verbatimString(_, let body):
            return String(buffer: body)
        default:
            return nil
        }
    }
}
