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
    ///
    /// Appending to the leftover's storage would keep every byte already decoded before it:
    /// on a stream whose reads seldom end on a message boundary (a Redis connection carrying
    /// 8 KB values) that storage would grow by every read until one does. Once the decoded
    /// prefix outweighs what is still needed, the leftover moves to a buffer of its own.
    public mutating func merged(with incoming: ByteBuffer) -> ByteBuffer {
        guard var buffer = leftover else { return incoming }
        leftover = nil
        let needed = buffer.readableBytes + incoming.readableBytes
        if buffer.readerIndex > needed {
            var fresh = ByteBufferAllocator().buffer(capacity: needed)
            fresh.writeImmutableBuffer(buffer)
            fresh.writeImmutableBuffer(incoming)
            return fresh
        }
        buffer.writeImmutableBuffer(incoming)
        return buffer
    }

    /// Keeps what decoding left unread for the next read (nothing when all was used).
    public mutating func keep(_ rest: ByteBuffer) {
        leftover = rest.readableBytes > 0 ? rest : nil
    }
}
