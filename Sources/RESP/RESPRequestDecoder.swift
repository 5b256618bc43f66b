import NIOCore

/// Incremental decoder of client commands for the server side, following Redis's
/// `processMultibulkBuffer` and `processInlineBuffer`: a request is either an array of bulk
/// strings or an inline line. Errors carry Redis's exact texts.
///
/// Arguments of a multibulk request are consumed as they arrive and kept as slices of the
/// receive buffer; `*0` and `*-1` requests and blank inline lines are skipped, as Redis does.
/// Unlike Redis, the two bytes after a bulk payload must be CRLF and a header's CR must be
/// followed by LF (Redis does not look at them), so a desynchronised stream fails fast.
/// After it throws, reply with the error's message and close the connection.
public struct RESPRequestDecoder: Sendable {
    public let limits: RESPLimits
    /// Arguments still expected by the multibulk request in progress (0: between requests).
    private(set) var remaining = 0
    private var arguments: [ByteBuffer] = []

    public init(limits: RESPLimits = .default) {
        self.limits = limits
    }

    /// Arguments of the request in progress already received (for tests and diagnostics).
    public var pendingArguments: Int { arguments.count }

    /// Whether a multibulk request has begun and not ended. Its header and whole arguments are
    /// consumed as they arrive, so the buffer left over may be empty in the middle of a request
    /// (the server's request deadline must still run).
    public var isMidRequest: Bool { remaining > 0 }

    /// Decodes the next complete request from `buffer`, or returns nil when more bytes are needed.
    public mutating func decode(buffer: inout ByteBuffer) throws(RESPProtocolError) -> RESPRequest? {
        while true {
            if remaining == 0 {
                guard let first = buffer.readableBytesView.first else { return nil }
                if first == UInt8(ascii: "*") {
                    guard try readMultibulkHeader(&buffer) else { return nil }
                    continue  // either a skipped empty request or arguments to read
                }
                switch try readInline(&buffer) {
                case .needMore: return nil
                case .skipped: continue
                case .request(let request): return request
                }
            }
            while remaining > 0 {
                let limits = self.limits
                let step = buffer.withUnsafeReadableBytes { Self.bulkArgument($0, limits: limits) }
                switch step {
                case .needMore:
                    return nil
                case .failure(let error):
                    throw error
                case .argument(let start, let length, let consumed):
                    arguments.append(buffer.getSlice(at: buffer.readerIndex &+ start, length: length) ?? ByteBuffer())
                    buffer.moveReaderIndex(forwardBy: consumed)
                    remaining &-= 1
                }
            }
            let request = RESPRequest(arguments: arguments)
            arguments = []
            return request
        }
    }

    // MARK: - Multibulk

    /// Reads `*<count>\r\n`. Returns false when more bytes are needed.
    private mutating func readMultibulkHeader(_ buffer: inout ByteBuffer) throws(RESPProtocolError) -> Bool {
        let limits = self.limits
        let header: (count: Int64, consumed: Int)? = try buffer.withUnsafeReadableBytes {
            (bytes) throws(RESPProtocolError) -> (count: Int64, consumed: Int)? in
            switch ByteScanning.findCR(in: bytes, from: 0, maxLength: limits.maxInlineLength) {
            case .needMore: return nil
            case .tooLong: throw .tooBigMultibulkCountString
            case .found(let r):
                guard r &+ 1 < bytes.count else { return nil }
                guard bytes[r &+ 1] == ByteScanning.lf,
                    let count = ByteScanning.parseInt64(bytes, from: 1, to: r),
                    count <= Int64(limits.maxAggregateElements)
                else { throw .invalidMultibulkLength }
                return (count, r &+ 2)
            }
        }
        guard let header else { return false }
        buffer.moveReaderIndex(forwardBy: header.consumed)
        if header.count > 0 {
            remaining = Int(header.count)
            // Size by the bytes that have arrived (an argument takes at least 6), never by the announcement.
            arguments.reserveCapacity(min(remaining, buffer.readableBytes / 6 &+ 1))
        }
        return true
    }

    private enum BulkStep {
        case needMore
        case failure(RESPProtocolError)
        case argument(start: Int, length: Int, consumed: Int)
    }

    /// Reads one `$<n>\r\n<payload>\r\n`, consuming nothing until the whole argument is there.
    @inline(__always)
    private static func bulkArgument(_ bytes: UnsafeRawBufferPointer, limits: RESPLimits) -> BulkStep {
        let r: Int
        switch ByteScanning.findCR(in: bytes, from: 0, maxLength: limits.maxInlineLength) {
        case .needMore: return .needMore
        case .tooLong: return .failure(.tooBigBulkCountString)
        case .found(let index): r = index
        }
        guard r &+ 1 < bytes.count else { return .needMore }
        guard bytes[0] == UInt8(ascii: "$") else { return .failure(.unexpectedBulkPrefix(bytes[0])) }
        guard bytes[r &+ 1] == ByteScanning.lf,
            let length = ByteScanning.parseInt64(bytes, from: 1, to: r),
            length >= 0, length <= Int64(limits.maxBulkLength)
        else { return .failure(.invalidBulkLength) }
        let start = r &+ 2
        let total = start &+ Int(length) &+ 2
        guard bytes.count >= total else { return .needMore }
        guard bytes[total &- 2] == ByteScanning.cr && bytes[total &- 1] == ByteScanning.lf else {
            return .failure(.missingCRLF)
        }
        return .argument(start: start, length: Int(length), consumed: total)
    }

    // MARK: - Inline

    private enum InlineStep {
        case needMore
        case skipped
        case request(RESPRequest)
    }

    private func readInline(_ buffer: inout ByteBuffer) throws(RESPProtocolError) -> InlineStep {
        let limits = self.limits
        let newline: Int? = try buffer.withUnsafeReadableBytes { (bytes) throws(RESPProtocolError) -> Int? in
            let searchEnd = min(bytes.count, limits.maxInlineLength &+ 1)
            if let n = ByteScanning.firstIndex(of: ByteScanning.lf, in: bytes, from: 0, to: searchEnd) {
                return n
            }
            if bytes.count > limits.maxInlineLength { throw .tooBigInlineRequest }
            return nil
        }
        guard let newline else { return .needMore }
        var lineEnd = newline
        if lineEnd > 0 && buffer.getInteger(at: buffer.readerIndex &+ lineEnd &- 1, as: UInt8.self) == ByteScanning.cr {
            lineEnd &-= 1
        }
        var inlineArguments: [ByteBuffer] = []
        guard InlineCommandSplitter.split(buffer, end: lineEnd, into: &inlineArguments) else {
            throw .unbalancedQuotes
        }
        buffer.moveReaderIndex(forwardBy: newline &+ 1)
        return inlineArguments.isEmpty ? .skipped : .request(RESPRequest(arguments: inlineArguments))
    }
}
