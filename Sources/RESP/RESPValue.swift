import NIOCore

/// One RESP2 or RESP3 value, as sent by Redis or a client.
///
/// Payloads are `ByteBuffer` slices that share storage with the bytes they were decoded from,
/// so decoding a reply never copies the data it carries. Equality compares readable bytes.
/// Doubles compare with IEEE semantics (`nan` is not equal to itself).
public enum RESPValue: Sendable, Equatable {
    /// `+OK\r\n`
    case simpleString(ByteBuffer)
    /// `-ERR message\r\n`
    case error(ByteBuffer)
    /// `:42\r\n`
    case integer(Int64)
    /// `$5\r\nhello\r\n`
    case bulkString(ByteBuffer)
    /// RESP2 `$-1\r\n`
    case nullBulkString
    /// `*2\r\n...`
    case array([RESPValue])
    /// RESP2 `*-1\r\n`
    case nullArray
    /// RESP3 `_\r\n`
    case null
    /// RESP3 `#t\r\n` / `#f\r\n`
    case boolean(Bool)
    /// RESP3 `,3.14\r\n`, including `inf`, `-inf` and `nan`.
    case double(Double)
    /// RESP3 `(3492890328409238509324850943850943825024385\r\n`: the decimal digits, unparsed.
    case bigNumber(ByteBuffer)
    /// RESP3 `!21\r\nSYNTAX invalid syntax\r\n`
    case bulkError(ByteBuffer)
    /// RESP3 `=15\r\ntxt:Some string\r\n`: a three-byte format (`txt`, `mkd`) and the body.
    case verbatimString(format: ByteBuffer, body: ByteBuffer)
    /// RESP3 `%1\r\n` key value: pairs in wire order (keys may repeat; nothing is hashed).
    case map([RESPPair])
    /// RESP3 `~2\r\n...`: elements in wire order.
    case set([RESPValue])
    /// RESP3 `|1\r\n` key value, then the value the attributes describe.
    indirect case attribute([RESPPair], RESPValue)
    /// RESP3 `>2\r\n...`: an out-of-band message (pub/sub, client tracking invalidation).
    case push([RESPValue])
}

/// One key/value entry of a RESP3 map or attribute, kept in wire order.
public struct RESPPair: Sendable, Equatable {
    public var key: RESPValue
    public var value: RESPValue

    public init(key: RESPValue, value: RESPValue) {
        self.key = key
        self.value = value
    }
}

extension RESPValue {
    /// A bulk string holding the UTF-8 bytes of `string` (convenience for tests and commands).
    public static func bulkString(_ string: String) -> RESPValue {
        .bulkString(ByteBuffer(string: string))
    }

    /// A simple string holding the UTF-8 bytes of `string`.
    public static func simpleString(_ string: String) -> RESPValue {
        .simpleString(ByteBuffer(string: string))
    }

    /// A simple error holding the UTF-8 bytes of `string`.
    public static func error(_ string: String) -> RESPValue {
        .error(ByteBuffer(string: string))
    }

    /// True for every null kind: RESP2 null bulk, RESP2 null array and RESP3 null.
    public var isNull: Bool {
        switch self {
        case .null, .nullBulkString, .nullArray: return true
        default: return false
        }
    }
}
