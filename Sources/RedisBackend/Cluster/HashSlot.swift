import NIOCore

/// Redis Cluster's key → slot function: CRC16 (XMODEM) of the key, or of its hash tag, modulo
/// 16384. A hash tag is the text between the first `{` and the next `}` when it is not empty,
/// so `{user1000}.following` and `{user1000}.followers` share a slot (and a node).
public enum HashSlot {
    /// Slots of a Redis Cluster.
    public static let count = 16_384

    /// The slot of a key given as bytes.
    public static func of<Bytes: Collection>(_ key: Bytes) -> Int where Bytes.Element == UInt8 {
        crc16(hashedPart(of: key)) & (count - 1)
    }

    /// The slot of a key given as text.
    public static func of(_ key: String) -> Int {
        of(key.utf8)
    }

    /// The slot of a key given as a buffer (its readable bytes).
    public static func of(_ key: ByteBuffer) -> Int {
        key.withUnsafeReadableBytes { of($0) }
    }

    /// The bytes that are hashed: the hash tag when there is a non-empty one, else the whole key.
    static func hashedPart<Bytes: Collection>(of key: Bytes) -> Bytes.SubSequence where Bytes.Element == UInt8 {
        guard let open = key.firstIndex(of: UInt8(ascii: "{")) else { return key[...] }
        let afterOpen = key.index(after: open)
        guard let close = key[afterOpen...].firstIndex(of: UInt8(ascii: "}")), close != afterOpen else { return key[...] }
        return key[afterOpen..<close]
    }

    /// CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, no reflection.
    static func crc16<Bytes: Sequence>(_ bytes: Bytes) -> Int where Bytes.Element == UInt8 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
        }
        return Int(crc)
    }

    private static let table: [UInt16] = (0..<256).map { value in
        var crc = UInt16(value) << 8
        for _ in 0..<8 {
            crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
        }
        return crc
    }
}
