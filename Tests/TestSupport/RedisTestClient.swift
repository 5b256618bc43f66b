import CHiredis
import Foundation

/// A blocking Redis client on hiredis (the reference C client) for tests: it talks to the
/// gateway or to Redis exactly as a real application would.
public final class RedisTestClient {
    /// A reply, reduced to what tests compare.
    public enum Reply: Equatable, CustomStringConvertible, Sendable {
        case string(String)
        case status(String)
        case error(String)
        case integer(Int64)
        case null
        case array([Reply])

        public var description: String {
            switch self {
            case .string(let text): return "\"\(text)\""
            case .status(let text): return text
            case .error(let text): return "(error) \(text)"
            case .integer(let value): return "(integer) \(value)"
            case .null: return "(nil)"
            case .array(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
            }
        }

        public var string: String? {
            if case .string(let text) = self { return text }
            return nil
        }
    }

    public struct ConnectionError: Error, CustomStringConvertible {
        public let description: String
    }

    private var context: UnsafeMutablePointer<redisContext>
    /// Follow Redis Cluster redirections (`MOVED`, `ASK`) in `command`, as a cluster-aware
    /// client does, so that a test reads any key of a cluster through one client.
    public var followsClusterRedirections = false
    private let timeoutSeconds: Int

    public init(host: String = "127.0.0.1", port: Int, timeoutSeconds: Int = 10) throws {
        self.context = try Self.connect(host: host, port: port, timeoutSeconds: timeoutSeconds)
        self.timeoutSeconds = timeoutSeconds
    }

    private static func connect(host: String, port: Int, timeoutSeconds: Int) throws -> UnsafeMutablePointer<redisContext> {
        let timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        guard let context = redisConnectWithTimeout(host, Int32(port), timeout) else {
            throw ConnectionError(description: "cannot allocate a hiredis context")
        }
        if context.pointee.err != 0 {
            let message = withUnsafePointer(to: context.pointee.errstr) {
                $0.withMemoryRebound(to: CChar.self, capacity: 128) { String(cString: $0) }
            }
            redisFree(context)
            throw ConnectionError(description: "cannot connect to \(host):\(port): \(message)")
        }
        redisSetTimeout(context, timeout)
        return context
    }

    deinit { redisFree(context) }

    /// Sends one command and waits for its reply.
    public func command(_ arguments: String...) throws -> Reply {
        try command(arguments)
    }

    public func command(_ arguments: [String]) throws -> Reply {
        append(arguments)
        var reply = try readReply()
        guard followsClusterRedirections else { return reply }
        for _ in 0..<5 {
            guard case .error(let message) = reply else { return reply }
            let words = message.split(separator: " ")
            guard words.count == 3, words[0] == "MOVED" || words[0] == "ASK",
                  let colon = words[2].lastIndex(of: ":"), let port = Int(words[2][words[2].index(after: colon)...])
            else { return reply }
            let host = String(words[2][..<colon])
            let next = try Self.connect(host: host.isEmpty ? "127.0.0.1" : host, port: port, timeoutSeconds: timeoutSeconds)
            redisFree(context)
            context = next
            if words[0] == "ASK" {
                append(["ASKING"])
                _ = try readReply()
            }
            append(arguments)
            reply = try readReply()
        }
        return reply
    }

    /// Queues a command without waiting (pipelining); read its reply with `readReply`.
    public func append(_ arguments: [String]) {
        let storage = arguments.map { Array($0.utf8) }
        var lengths = storage.map { Int($0.count) }
        var owned: [UnsafeMutablePointer<CChar>] = []
        for bytes in storage {
            let copy = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, bytes.count))
            bytes.withUnsafeBytes { source in
                UnsafeMutableRawPointer(copy).copyMemory(from: source.baseAddress ?? UnsafeRawPointer(copy), byteCount: bytes.count)
            }
            owned.append(copy)
        }
        defer { owned.forEach { $0.deallocate() } }
        var pointers: [UnsafePointer<CChar>?] = owned.map { UnsafePointer($0) }
        _ = pointers.withUnsafeMutableBufferPointer { argv in
            lengths.withUnsafeMutableBufferPointer { lens in
                redisAppendCommandArgv(context, Int32(arguments.count), argv.baseAddress, lens.baseAddress)
            }
        }
    }

    /// Writes everything queued so far without reading.
    public func flush() {
        var done: Int32 = 0
        while done == 0 {
            if redisBufferWrite(context, &done) != REDIS_OK { return }
        }
    }

    /// Reads the next reply of a queued command.
    public func readReply() throws -> Reply {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else {
            let message = withUnsafePointer(to: context.pointee.errstr) {
                $0.withMemoryRebound(to: CChar.self, capacity: 128) { String(cString: $0) }
            }
            throw ConnectionError(description: "connection failed: \(message)")
        }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        defer { freeReplyObject(raw) }
        return Self.convert(reply)
    }

    private static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> Reply {
        let value = reply.pointee
        func text() -> String {
            guard let str = value.str else { return "" }
            return String(decoding: UnsafeRawBufferPointer(start: str, count: Int(value.len)), as: UTF8.self)
        }
        switch value.type {
        case REDIS_REPLY_STRING: return .string(text())
        case REDIS_REPLY_STATUS: return .status(text())
        case REDIS_REPLY_ERROR: return .error(text())
        case REDIS_REPLY_INTEGER: return .integer(value.integer)
        case REDIS_REPLY_ARRAY:
            var items: [Reply] = []
            for index in 0..<Int(value.elements) {
                if let element = value.element[index] { items.append(convert(element)) }
            }
            return .array(items)
        default: return .null
        }
    }
}
