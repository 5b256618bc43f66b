import NIOCore

/// Lets the server put the request decoder in a `ByteToMessageHandler`.
extension RESPRequestDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = RESPRequest

    /// At end of stream a partial request is dropped, as Redis drops it when a client disconnects.
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> RESPRequest? {
        try decode(buffer: &buffer)
    }
}

/// Lets the Redis client side put the value decoder in a `ByteToMessageHandler`.
extension RESPValueDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = RESPValue

    /// At end of stream a partial reply is dropped; the caller fails its pending requests.
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> RESPValue? {
        try decode(buffer: &buffer)
    }
}
