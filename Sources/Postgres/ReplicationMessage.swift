/// The messages of a logical replication stream that a consumer of pgoutput needs: the
/// walsender's envelope (`w` data, `k` keepalive) and, inside data, pgoutput's
/// transaction and message records. Decoding is pure, so it is unit-tested byte by byte;
/// PostgreSQL's "Streaming Replication Protocol" and "Logical Replication Message
/// Formats" pages define the layouts.
public enum ReplicationMessage: Equatable, Sendable {
    /// WAL data from `start`; `payload` is one output plugin message.
    case data(start: UInt64, payload: PgOutputMessage)
    /// The server's position; with `replyRequested` it wants a status update now.
    case keepalive(walEnd: UInt64, replyRequested: Bool)

    /// Decodes one `COPY BOTH` message of the stream.
    public static func decode(_ bytes: [UInt8]) throws -> ReplicationMessage {
        var reader = ByteReader(bytes)
        switch try reader.byte() {
        case UInt8(ascii: "w"):
            let start = try reader.uint64()
            _ = try reader.uint64()  // the server's WAL end
            _ = try reader.uint64()  // its clock
            return .data(start: start, payload: try PgOutputMessage.decode(&reader))
        case UInt8(ascii: "k"):
            let walEnd = try reader.uint64()
            _ = try reader.uint64()
            return .keepalive(walEnd: walEnd, replyRequested: try reader.byte() != 0)
        case let other:
            throw ReplicationDecodingError.unknownMessage(other)
        }
    }

    /// A standby status update confirming everything up to `lsn` as written, flushed and
    /// applied (a logical slot then keeps only what comes after). `clock` is microseconds
    /// since 2000-01-01, PostgreSQL's epoch.
    public static func statusUpdate(confirming lsn: UInt64, clock: Int64, replyRequested: Bool = false) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(ascii: "r")]
        bytes.reserveCapacity(34)
        for _ in 0..<3 { bytes.appendBigEndian(lsn) }
        bytes.appendBigEndian(UInt64(bitPattern: clock))
        bytes.append(replyRequested ? 1 : 0)
        return bytes
    }

    /// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01 UTC).
    public static let postgresEpochOffsetMicroseconds: Int64 = 946_684_800_000_000
}

/// One pgoutput record. Only what invalidation reads is decoded; the rest is `other`.
public enum PgOutputMessage: Equatable, Sendable {
    /// A committed transaction starts; `commitTime` is µs since 2000-01-01.
    case begin(finalLSN: UInt64, commitTime: Int64, xid: UInt32)
    /// A `pg_logical_emit_message` record.
    case message(transactional: Bool, lsn: UInt64, prefix: String, content: [UInt8])
    /// The transaction ends; confirming `endLSN` releases it from the slot.
    case commit(commitLSN: UInt64, endLSN: UInt64, commitTime: Int64)
    /// A record of another kind (relation, row change, origin, type), by its tag.
    case other(UInt8)

    static func decode(_ reader: inout ByteReader) throws -> PgOutputMessage {
        switch try reader.byte() {
        case UInt8(ascii: "B"):
            return .begin(finalLSN: try reader.uint64(), commitTime: Int64(bitPattern: try reader.uint64()),
                          xid: try reader.uint32())
        case UInt8(ascii: "M"):
            let flags = try reader.byte()
            let lsn = try reader.uint64()
            let prefix = try reader.cString()
            let length = try reader.uint32()
            return .message(transactional: flags & 1 == 1, lsn: lsn, prefix: prefix, content: try reader.bytes(Int(length)))
        case UInt8(ascii: "C"):
            _ = try reader.byte()  // flags, unused
            return .commit(commitLSN: try reader.uint64(), endLSN: try reader.uint64(),
                           commitTime: Int64(bitPattern: try reader.uint64()))
        case let tag:
            return .other(tag)
        }
    }
}

/// Why a replication message could not be decoded.
public enum ReplicationDecodingError: Error, Equatable, CustomStringConvertible {
    case truncated(needed: Int, available: Int)
    case unknownMessage(UInt8)
    case unterminatedString

    public var description: String {
        switch self {
        case let .truncated(needed, available):
            return "truncated replication message: needed \(needed) more bytes, \(available) left"
        case let .unknownMessage(tag):
            return "unknown replication message type \(tag)"
        case .unterminatedString:
            return "unterminated string in a replication message"
        }
    }
}

/// Big-endian reads over a message's bytes, each checking the length first.
struct ByteReader {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    private func need(_ count: Int) throws {
        guard count >= 0, bytes.count - offset >= count else {
            throw ReplicationDecodingError.truncated(needed: count, available: bytes.count - offset)
        }
    }

    mutating func byte() throws -> UInt8 {
        try need(1)
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func uint32() throws -> UInt32 {
        try need(4)
        defer { offset += 4 }
        return bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func uint64() throws -> UInt64 {
        try need(8)
        defer { offset += 8 }
        return bytes[offset..<offset + 8].reduce(0) { $0 << 8 | UInt64($1) }
    }

    mutating func bytes(_ count: Int) throws -> [UInt8] {
        try need(count)
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    mutating func cString() throws -> String {
        guard let end = bytes[offset...].firstIndex(of: 0) else { throw ReplicationDecodingError.unterminatedString }
        defer { offset = end + 1 }
        return String(decoding: bytes[offset..<end], as: UTF8.self)
    }
}

extension [UInt8] {
    mutating func appendBigEndian(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }
}
