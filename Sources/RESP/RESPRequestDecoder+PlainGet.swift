import NIOCore

/// A request as the server's hot path wants it: a plain GET carries only its key, with no
/// argument array; everything else is a full `RESPRequest`.
public enum DecodedRequest: Sendable, Equatable {
    /// `GET key` (any letter case), complete in the buffer; `key` is a slice of it.
    case get(key: ByteBuffer)
    case request(RESPRequest)
}

extension RESPRequestDecoder {
    /// Like `decode(buffer:)`, but a complete, well-formed `*2 $3 GET $n key` frame at the
    /// front of `buffer` comes back as `.get(key:)` without building an argument array: the
    /// hit path's common case. Anything else (partial frames, other commands, malformed input,
    /// odd but valid spellings such as inline GETs) goes through `decode(buffer:)`, so errors,
    /// limits and partial-frame handling stay exactly those of the general decoder.
    public mutating func decodeNext(buffer: inout ByteBuffer) throws(RESPProtocolError) -> DecodedRequest? {
        if remaining == 0,
            let frame = buffer.withUnsafeReadableBytes({ Self.plainGet($0, limits: limits) })
        {
            let key = buffer.getSlice(at: buffer.readerIndex &+ frame.keyStart, length: frame.keyLength) ?? ByteBuffer()
            buffer.moveReaderIndex(forwardBy: frame.consumed)
            return .get(key: key)
        }
        return try decode(buffer: &buffer).map(DecodedRequest.request)
    }

    /// `*2\r\n$3\r\nGET\r\n$<n>\r\n<key>\r\n` with `n` in plain digits (no sign, no leading
    /// zero), all present; nil otherwise. Only frames the general decoder accepts match: the
    /// limits it checks are checked here too.
    @inline(__always)
    static func plainGet(_ bytes: UnsafeRawBufferPointer, limits: RESPLimits) -> (keyStart: Int, keyLength: Int, consumed: Int)? {
        // "*2\r\n$3\r\nGET\r\n$" is 14 bytes; the shortest frame has a 1-digit length and a 1-byte key.
        let count = bytes.count
        guard count >= 20, limits.maxAggregateElements >= 2, limits.maxInlineLength >= 24 else { return nil }
        guard bytes[0] == UInt8(ascii: "*"), bytes[1] == UInt8(ascii: "2"), bytes[2] == ByteScanning.cr,
            bytes[3] == ByteScanning.lf, bytes[4] == UInt8(ascii: "$"), bytes[5] == UInt8(ascii: "3"),
            bytes[6] == ByteScanning.cr, bytes[7] == ByteScanning.lf,
            bytes[8] | 0x20 == UInt8(ascii: "g"), bytes[9] | 0x20 == UInt8(ascii: "e"), bytes[10] | 0x20 == UInt8(ascii: "t"),
            bytes[11] == ByteScanning.cr, bytes[12] == ByteScanning.lf, bytes[13] == UInt8(ascii: "$")
        else { return nil }
        var index = 14
        var length = 0
        while index < count, index < 14 + 10 {  // at most 10 digits
            let byte = bytes[index]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { break }
            if index == 14 && byte == UInt8(ascii: "0") { return nil }
            length = length &* 10 &+ Int(byte &- UInt8(ascii: "0"))
            index &+= 1
        }
        guard index > 14, length <= limits.maxBulkLength else { return nil }
        let keyStart = index &+ 2
        let consumed = keyStart &+ length &+ 2
        guard consumed <= count, bytes[index] == ByteScanning.cr, bytes[index &+ 1] == ByteScanning.lf,
            bytes[consumed &- 2] == ByteScanning.cr, bytes[consumed &- 1] == ByteScanning.lf
        else { return nil }
        return (keyStart, length, consumed)
    }
}
