import CHiredis

/// One blocking connection on hiredis, the reference C client, owned by one thread: what is
/// sent is what any Redis client would send. Commands can be queued and flushed together
/// (pipelining), and their replies read back in order, blocking or from what was already read.
public final class HiredisConnection {
    /// `host:port` (`[host]:port` for an IPv6 address), as every error names it.
    public let address: String
    private let context: UnsafeMutablePointer<redisContext>
    /// The request being formatted, kept so that queueing a command allocates nothing.
    private var request: [UInt8] = []

    /// Connects, waiting at most `timeoutSeconds`; that is also the wait for each reply
    /// until `setTimeout` changes it.
    public init(host: String, port: Int, timeoutSeconds: Int) throws(HiredisError) {
        address = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        let timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        guard let context = redisConnectWithTimeout(host, Int32(port), timeout) else {
            throw .outOfMemory(address: address)
        }
        if context.pointee.err != 0 {
            let reason = Self.errorText(context)
            redisFree(context)
            throw .cannotConnect(address: address, reason: reason)
        }
        redisSetTimeout(context, timeout)
        self.context = context
    }

    deinit { redisFree(context) }

    /// How long to wait for a reply from now on.
    public func setTimeout(seconds: Int) {
        redisSetTimeout(context, timeval(tv_sec: seconds, tv_usec: 0))
    }

    /// Sends `AUTH` (`user` "default" when nil) and throws if the server refuses it.
    public func authenticate(user: String?, password: String) throws(HiredisError) {
        let user = user ?? "default"
        if case .error(let message) = try command(["AUTH", user, password]) {
            throw .authenticationRefused(address: address, user: user, message: message)
        }
    }

    /// Sends one command and waits for its reply (error replies are returned, not thrown).
    public func command(_ arguments: [String]) throws(HiredisError) -> HiredisReply {
        try append(arguments)
        return try readReply()
    }

    /// Queues one command without sending it. Arguments are length-prefixed, so any bytes
    /// (NUL included) pass unchanged.
    public func append(_ arguments: [String]) throws(HiredisError) {
        request.removeAll(keepingCapacity: true)
        RequestFormat.multibulk(arguments, into: &request)
        let status = request.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { redisAppendFormattedCommand(context, $0.baseAddress, $0.count) }
        }
        guard status == REDIS_OK else { throw .outOfMemory(address: address) }
    }

    /// Writes everything queued.
    public func flush() throws(HiredisError) {
        var done: Int32 = 0
        while done == 0 {
            guard redisBufferWrite(context, &done) == REDIS_OK else { throw lost() }
        }
    }

    /// Sends what is queued if needed and waits for the next reply.
    public func readReply() throws(HiredisError) -> HiredisReply {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw lost() }
        defer { freeReplyObject(raw) }
        return HiredisReplyView(UnsafePointer(raw.assumingMemoryBound(to: redisReply.self))).value
    }

    /// The socket, for poll(2) by a caller that serves many connections on one thread.
    public var descriptor: Int32 { context.pointee.fd }

    /// Reads what the socket has into hiredis's buffer (one read: call it when poll says readable).
    public func readAvailable() throws(HiredisError) {
        guard redisBufferRead(context) == REDIS_OK else { throw lost() }
    }

    /// Passes the next reply already complete in the buffer to `body` without reading the
    /// socket or copying the reply; false when none is complete yet.
    public func readBufferedReply(_ body: (HiredisReplyView) -> Void) throws(HiredisError) -> Bool {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReplyFromReader(context, &raw) == REDIS_OK else { throw lost() }
        guard let raw else { return false }
        defer { freeReplyObject(raw) }
        body(HiredisReplyView(UnsafePointer(raw.assumingMemoryBound(to: redisReply.self))))
        return true
    }

    private func lost() -> HiredisError {
        .connectionLost(address: address, reason: Self.errorText(context))
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        let text = withUnsafePointer(to: context.pointee.errstr) {
            $0.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: context.pointee.errstr)) {
                String(cString: $0)
            }
        }
        return text.isEmpty ? "connection failed" : text
    }
}
