import NIOCore

/// Incremental decoder of RESP2 and RESP3 values: the replies the gateway reads from Redis.
///
/// Feed it the connection's cumulation buffer; each call returns the next complete value, or
/// `nil` when more bytes are needed. Complete elements of a partly received aggregate are
/// consumed and kept, so a large reply arriving in many reads is scanned once. Nesting is
/// handled with an explicit stack (no recursion), capped by `RESPLimits.maxNestingDepth`, and
/// no array is ever sized from an announced count. After it throws, the stream is out of sync:
/// close the connection and drop the decoder.
public struct RESPValueDecoder: Sendable {
    public let limits: RESPLimits
    private var frames: [Frame] = []

    public init(limits: RESPLimits = .default) {
        self.limits = limits
    }

    /// How many aggregates are open, waiting for more elements (for tests and diagnostics).
    public var openAggregates: Int { frames.count }

    /// Decodes the next complete value from `buffer`, moving its reader index past the bytes used.
    public mutating func decode(buffer: inout ByteBuffer) throws(RESPProtocolError) -> RESPValue? {
        while buffer.readableBytes > 0 {
            let limits = self.limits
            let token = buffer.withUnsafeReadableBytes { Self.nextToken($0, limits: limits) }
            var value: RESPValue
            switch token {
            case .needMore:
                return nil
            case .failure(let error):
                throw error
            case .scalar(let scalar, let consumed):
                buffer.moveReaderIndex(forwardBy: consumed)
                value = scalar
            case .line(let type, let length, let consumed):
                let payload = Self.slice(buffer, at: 1, length: length)
                buffer.moveReaderIndex(forwardBy: consumed)
                switch type {
                case UInt8(ascii: "+"): value = .simpleString(payload)
                case UInt8(ascii: "-"): value = .error(payload)
                default: value = .bigNumber(payload)
                }
            case .blob(let type, let start, let length, let consumed):
                switch type {
                case UInt8(ascii: "$"):
                    value = .bulkString(Self.slice(buffer, at: start, length: length))
                case UInt8(ascii: "!"):
                    value = .bulkError(Self.slice(buffer, at: start, length: length))
                default:
                    value = .verbatimString(
                        format: Self.slice(buffer, at: start, length: 3),
                        body: Self.slice(buffer, at: start &+ 4, length: length &- 4)
                    )
                }
                buffer.moveReaderIndex(forwardBy: consumed)
            case .aggregate(let kind, let count, let consumed):
                guard frames.count < limits.maxNestingDepth else {
                    throw .tooDeepNesting(limits.maxNestingDepth)
                }
                buffer.moveReaderIndex(forwardBy: consumed)
                let remaining: Int
                switch kind {
                case .map: remaining = count &* 2
                case .attribute: remaining = count &* 2 &+ 1
                case .array, .set, .push: remaining = count
                }
                if remaining > 0 {
                    var elements: [RESPValue] = []
                    // Every element takes at least 3 bytes: size by what has arrived, never by the announcement.
                    elements.reserveCapacity(min(remaining, buffer.readableBytes / 3 &+ 1))
                    frames.append(Frame(kind: kind, remaining: remaining, elements: elements))
                    continue
                }
                value = Frame(kind: kind, remaining: 0, elements: []).build()
            }
            // Fold the finished value into its enclosing aggregates.
            while !frames.isEmpty {
                let top = frames.count &- 1
                frames[top].elements.append(value)
                frames[top].remaining &-= 1
                if frames[top].remaining > 0 { break }
                value = frames.removeLast().build()
            }
            if frames.isEmpty { return value }
        }
        return nil
    }

    @inline(__always)
    private static func slice(_ buffer: ByteBuffer, at offset: Int, length: Int) -> ByteBuffer {
        // Offsets were validated against the readable bytes by `nextToken`.
        buffer.getSlice(at: buffer.readerIndex &+ offset, length: length) ?? ByteBuffer()
    }

    private enum Token {
        case needMore
        case failure(RESPProtocolError)
        case scalar(RESPValue, consumed: Int)
        case line(type: UInt8, length: Int, consumed: Int)
        case blob(type: UInt8, start: Int, length: Int, consumed: Int)
        case aggregate(Frame.Kind, count: Int, consumed: Int)
    }

    /// Reads one value header (and, for scalars, the whole value) at the start of `bytes`.
    private static func nextToken(_ bytes: UnsafeRawBufferPointer, limits: RESPLimits) -> Token {
        let type = bytes[0]
        switch type {
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "$"),
            UInt8(ascii: "*"), UInt8(ascii: "_"), UInt8(ascii: "#"), UInt8(ascii: ","),
            UInt8(ascii: "("), UInt8(ascii: "!"), UInt8(ascii: "="), UInt8(ascii: "%"),
            UInt8(ascii: "~"), UInt8(ascii: "|"), UInt8(ascii: ">"):
            break
        default:
            return .failure(.invalidTypeByte(type))
        }
        let end: Int
        switch ByteScanning.findCRLF(in: bytes, from: 1, maxLength: limits.maxInlineLength) {
        case .needMore: return .needMore
        case .tooLong: return .failure(.tooBigLine)
        case .found(let e): end = e
        }
        let consumed = end &+ 2
        switch type {
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            return .line(type: type, length: end &- 1, consumed: consumed)
        case UInt8(ascii: ":"):
            guard let n = ByteScanning.parseInt64(bytes, from: 1, to: end) else {
                return .failure(.invalidInteger)
            }
            return .scalar(.integer(n), consumed: consumed)
        case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
            guard let n = ByteScanning.parseInt64(bytes, from: 1, to: end) else {
                return .failure(.invalidBulkLength)
            }
            if n == -1 && type == UInt8(ascii: "$") {
                return .scalar(.nullBulkString, consumed: consumed)
            }
            guard n >= 0 && n <= Int64(limits.maxBulkLength) else { return .failure(.invalidBulkLength) }
            let length = Int(n)
            let total = consumed &+ length &+ 2
            guard bytes.count >= total else { return .needMore }
            guard bytes[total &- 2] == ByteScanning.cr && bytes[total &- 1] == ByteScanning.lf else {
                return .failure(.missingCRLF)
            }
            if type == UInt8(ascii: "=") {
                guard length >= 4 && bytes[consumed &+ 3] == UInt8(ascii: ":") else {
                    return .failure(.invalidVerbatimString)
                }
            }
            return .blob(type: type, start: consumed, length: length, consumed: total)
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "%"), UInt8(ascii: "|"):
            guard let n = ByteScanning.parseInt64(bytes, from: 1, to: end) else {
                return .failure(.invalidMultibulkLength)
            }
            if n == -1 && type == UInt8(ascii: "*") {
                return .scalar(.nullArray, consumed: consumed)
            }
            guard n >= 0 && n <= Int64(limits.maxAggregateElements) else {
                return .failure(.invalidMultibulkLength)
            }
            let kind: Frame.Kind
            switch type {
            case UInt8(ascii: "*"): kind = .array
            case UInt8(ascii: "~"): kind = .set
            case UInt8(ascii: ">"): kind = .push
            case UInt8(ascii: "%"): kind = .map
            default: kind = .attribute
            }
            return .aggregate(kind, count: Int(n), consumed: consumed)
        case UInt8(ascii: "_"):
            guard end == 1 else { return .failure(.invalidNull) }
            return .scalar(.null, consumed: consumed)
        case UInt8(ascii: "#"):
            guard end == 2 else { return .failure(.invalidBoolean) }
            switch bytes[1] {
            case UInt8(ascii: "t"): return .scalar(.boolean(true), consumed: consumed)
            case UInt8(ascii: "f"): return .scalar(.boolean(false), consumed: consumed)
            default: return .failure(.invalidBoolean)
            }
        case UInt8(ascii: ","):
            guard let d = parseDouble(bytes, from: 1, to: end) else { return .failure(.invalidDouble) }
            return .scalar(.double(d), consumed: consumed)
        default:  // "(" big number
            var i = 1
            if i < end && (bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+")) { i &+= 1 }
            guard i < end else { return .failure(.invalidBigNumber) }
            while i < end {
                guard bytes[i] &- UInt8(ascii: "0") <= 9 else { return .failure(.invalidBigNumber) }
                i &+= 1
            }
            return .line(type: type, length: end &- 1, consumed: consumed)
        }
    }

    /// RESP3 doubles: decimal or exponent notation, `inf`, `-inf`, `nan` (rare: a String is fine).
    private static func parseDouble(_ bytes: UnsafeRawBufferPointer, from: Int, to: Int) -> Double? {
        guard from < to, to &- from <= 512 else { return nil }
        for i in from..<to {
            switch bytes[i] {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"),
                UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "i"),
                UInt8(ascii: "n"), UInt8(ascii: "f"), UInt8(ascii: "a"):
                continue
            default:
                return nil
            }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[from..<to]), as: UTF8.self)
        return Double(text)
    }
}

/// One aggregate still receiving elements.
struct Frame: Sendable {
    enum Kind: Sendable { case array, set, push, map, attribute }

    var kind: Kind
    var remaining: Int
    var elements: [RESPValue]

    func build() -> RESPValue {
        switch kind {
        case .array: return .array(elements)
        case .set: return .set(elements)
        case .push: return .push(elements)
        case .map: return .map(Self.pairs(elements, count: elements.count))
        case .attribute:
            let pairCount = elements.count &- 1
            return .attribute(Self.pairs(elements, count: pairCount), elements[pairCount])
        }
    }

    private static func pairs(_ elements: [RESPValue], count: Int) -> [RESPPair] {
        var pairs: [RESPPair] = []
        pairs.reserveCapacity(count / 2)
        var i = 0
        while i &+ 1 < count {
            pairs.append(RESPPair(key: elements[i], value: elements[i &+ 1]))
            i &+= 2
        }
        return pairs
    }
}
