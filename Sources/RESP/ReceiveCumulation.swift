import NIOCore

/// The undecoded tail of a byte stream, carried from one read to the next. Handlers that decode
/// in place use it instead of NIO's generic `ByteToMessageHandler`, which on the hot path costs
/// a type-erased wrapper and a dynamic cast per message plus unspecialised generic code.
/// An idle connection holds no buffer at all.
public struct ReceiveCumulation: Sendable {
    private var leftover: ByteBuffer?

    public init() {}

    /// Bytes held back, waiting for the rest of a message.
    public var pendingBytes: Int { leftover?.readableBytes ?? 0 }

    /// The bytes to decode from: what was left over followed by `incoming`.
    public mutating func merged(with incoming: ByteBuffer) -> ByteBuffer {
        guard var buffer = leftover else { return incoming }
        leftover = nil
        buffer.writeImmutableBuffer(incoming)
        return buffer
    }

    /// Keeps what decoding left unread for the next read (nothing when all was used).
    public mutating func keep(_ rest: ByteBuffer) {
        leftover = rest.readableBytes > 0 ? rest : nil
    }
}
