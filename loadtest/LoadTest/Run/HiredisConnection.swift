import CHiredis

/// One blocking hiredis connection, owned by one thread.
///
/// Commands are appended preformatted (`redisAppendFormattedCommand`), flushed together
/// and their replies read back in order: that is pipelining with depth N.
final class HiredisConnection {
    /// What a reply was, with its text only when the caller asked for it.
    enum Reply {
        case value(String?)
        case null
        case error(String)
        case other
    }

    let target: String
    private let context: UnsafeMutablePointer<redisContext>

    init(host: String, port: Int, timeoutSeconds: Int = 5) throws(RunError) {
        target = "\(host):\(port)"
        let timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        guard let context = redisConnectWithTimeout(host, Int32(port), timeout) else {
            throw .unreachable(target: target, message: "cannot allocate a hiredis context")
        }
        if context.pointee.err != 0 {
            let message = Self.errorText(context)
            redisFree(context)
            throw .unreachable(target: target, message: message)
        }
        redisSetTimeout(context, timeout)
        self.context = context
    }

    deinit { redisFree(context) }

    /// Queues one command (not yet sent).
    func append(_ arguments: [String]) {
        let bytes = Self.encode(arguments)
        bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                _ = redisAppendFormattedCommand(context, chars.baseAddress, chars.count)
            }
        }
    }

    /// Sends everything queued.
    func flush() throws(RunError) {
        var done: Int32 = 0
        while done == 0 {
            if redisBufferWrite(context, &done) != REDIS_OK {
                throw .unreachable(target: target, message: Self.errorText(context))
            }
        }
    }

    /// Reads the next reply; `capture` copies a bulk string's text.
    func readReply(capture: Bool = false) throws(RunError) -> Reply {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else {
            throw .unreachable(target: target, message: Self.errorText(context))
        }
        defer { freeReplyObject(raw) }
        return Self.reply(raw.assumingMemoryBound(to: redisReply.self).pointee, capture: capture)
    }

    private static func reply(_ reply: redisReply, capture: Bool) -> Reply {
        func text() -> String {
            guard let str = reply.str else { return "" }
            return String(decoding: UnsafeRawBufferPointer(start: str, count: Int(reply.len)), as: UTF8.self)
        }
        switch reply.type {
        case REDIS_REPLY_STRING: return .value(capture ? text() : nil)
        case REDIS_REPLY_NIL: return .null
        case REDIS_REPLY_ERROR: return .error(text())
        case REDIS_REPLY_STATUS: return .value(capture ? text() : nil)
        default: return .other
        }
    }

    /// The socket, for poll(2).
    var descriptor: Int32 { context.pointee.fd }

    /// Reads what the socket has into hiredis's buffer (one read; call when poll says readable).
    func readAvailable() throws(RunError) {
        guard redisBufferRead(context) == REDIS_OK else {
            throw .unreachable(target: target, message: Self.errorText(context))
        }
    }

    /// The next reply already complete in the buffer, without reading the socket (nil: none yet).
    func bufferedReply(capture: Bool = false) throws(RunError) -> Reply? {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReplyFromReader(context, &raw) == REDIS_OK else {
            throw .unreachable(target: target, message: Self.errorText(context))
        }
        guard let raw else { return nil }
        defer { freeReplyObject(raw) }
        return Self.reply(raw.assumingMemoryBound(to: redisReply.self).pointee, capture: capture)
    }

    /// One command, one reply.
    func command(_ arguments: [String], capture: Bool = true) throws(RunError) -> Reply {
        append(arguments)
        return try readReply(capture: capture)
    }

    /// A RESP multibulk request.
    static func encode(_ arguments: [String]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(32 + arguments.reduce(0) { $0 + $1.utf8.count + 16 })
        out += Array("*\(arguments.count)\r\n".utf8)
        for argument in arguments {
            out += Array("$\(argument.utf8.count)\r\n".utf8)
            out += Array(argument.utf8)
            out += [13, 10]
        }
        return out
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        let text = withUnsafePointer(to: context.pointee.errstr) {
            $0.withMemoryRebound(to: CChar.self, capacity: 128) { String(cString: $0) }
        }
        return text.isEmpty ? "connection failed" : text
    }
}
