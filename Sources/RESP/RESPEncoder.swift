#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// The protocol a connection speaks: RESP2 by default, RESP3 after `HELLO 3`.
public enum RESPVersion: Sendable, Hashable {
    case resp2
    case resp3
}

/// Writing RESP onto a `ByteBuffer`.
///
/// `writeRESPValue` serialises any value, applying the same RESP2 fallbacks as Redis when the
/// connection speaks RESP2. The other methods are the hit path: they write one reply piece
/// directly, without building a `RESPValue` first.
extension ByteBuffer {
    /// Writes `value` for a connection speaking `version`; returns the number of bytes written.
    ///
    /// RESP2 fallbacks (as Redis): null → `$-1`, boolean → `:1`/`:0`, double → bulk string of
    /// its `%.17g` text (`inf`, `-inf`), big number and verbatim string → bulk string, bulk
    /// error → simple error, map → flat array of key, value, …, set and push → array, and an
    /// attribute is left out (only the value it describes is written). In RESP3 every null kind
    /// is written as `_`, as Redis does.
    @discardableResult
    public mutating func writeRESPValue(_ value: RESPValue, version: RESPVersion) -> Int {
        let start = writerIndex
        switch value {
        case .simpleString(let s): writeRESPSimpleString(s)
        case .error(let e): writeRESPError(e)
        case .integer(let n): writeRESPInteger(n)
        case .bulkString(let b): writeRESPBulkString(b)
        case .nullBulkString: writeRESPNull(version: version)
        case .nullArray: writeRESPNullArray(version: version)
        case .null: writeRESPNull(version: version)
        case .boolean(let b): writeRESPBoolean(b, version: version)
        case .double(let d): writeRESPDouble(d, version: version)
        case .bigNumber(let digits):
            if version == .resp3 {
                writeLine(prefix: UInt8(ascii: "("), digits)
            } else {
                writeRESPBulkString(digits)
            }
        case .bulkError(let e):
            if version == .resp3 {
                writeHeader(UInt8(ascii: "!"), Int64(e.readableBytes))
                writeImmutableBuffer(e)
                writeCRLF()
            } else {
                writeRESPError(e)
            }
        case .verbatimString(let format, let body):
            if version == .resp3 {
                writeHeader(UInt8(ascii: "="), Int64(body.readableBytes &+ 4))
                if format.readableBytes == 3 {
                    writeImmutableBuffer(format)
                } else {
                    writeStaticString("txt")
                }
                writeInteger(UInt8(ascii: ":"))
                writeImmutableBuffer(body)
                writeCRLF()
            } else {
                writeRESPBulkString(body)
            }
        case .array(let elements):
            writeRESPArrayHeader(elements.count)
            for element in elements { writeRESPValue(element, version: version) }
        case .set(let elements):
            writeRESPSetHeader(elements.count, version: version)
            for element in elements { writeRESPValue(element, version: version) }
        case .push(let elements):
            writeRESPPushHeader(elements.count, version: version)
            for element in elements { writeRESPValue(element, version: version) }
        case .map(let pairs):
            writeRESPMapHeader(pairs.count, version: version)
            for pair in pairs {
                writeRESPValue(pair.key, version: version)
                writeRESPValue(pair.value, version: version)
            }
        case .attribute(let pairs, let described):
            if version == .resp3 {
                writeHeader(UInt8(ascii: "|"), Int64(pairs.count))
                for pair in pairs {
                    writeRESPValue(pair.key, version: version)
                    writeRESPValue(pair.value, version: version)
                }
            }
            writeRESPValue(described, version: version)
        }
        return writerIndex &- start
    }

    /// `$<n>\r\n<payload>\r\n`, copying `payload`'s readable bytes (the hit path for GET).
    public mutating func writeRESPBulkString(_ payload: ByteBuffer) {
        writeHeader(UInt8(ascii: "$"), Int64(payload.readableBytes))
        writeImmutableBuffer(payload)
        writeCRLF()
    }

    /// `$<n>\r\n<bytes>\r\n` for raw bytes (an array, `String.utf8`, …).
    public mutating func writeRESPBulkString<Bytes: Collection>(bytes: Bytes) where Bytes.Element == UInt8 {
        writeHeader(UInt8(ascii: "$"), Int64(bytes.count))
        writeBytes(bytes)
        writeCRLF()
    }

    /// `$<n>\r\n<utf8>\r\n`.
    public mutating func writeRESPBulkString(_ string: String) {
        writeHeader(UInt8(ascii: "$"), Int64(string.utf8.count))
        writeString(string)
        writeCRLF()
    }

    /// `+<text>\r\n`; CR and LF inside `text` become spaces so the reply cannot break framing.
    public mutating func writeRESPSimpleString(_ text: ByteBuffer) {
        writeLine(prefix: UInt8(ascii: "+"), text)
    }

    /// `+<text>\r\n`; CR and LF inside `text` become spaces.
    public mutating func writeRESPSimpleString(_ text: String) {
        writeLine(prefix: UInt8(ascii: "+"), text)
    }

    /// `-<message>\r\n`; CR and LF inside `message` become spaces (as Redis does for errors).
    public mutating func writeRESPError(_ message: ByteBuffer) {
        writeLine(prefix: UInt8(ascii: "-"), message)
    }

    /// `-<message>\r\n`, e.g. `writeRESPError("ERR unknown command")`.
    public mutating func writeRESPError(_ message: String) {
        writeLine(prefix: UInt8(ascii: "-"), message)
    }

    /// `:<n>\r\n`
    public mutating func writeRESPInteger(_ value: Int64) {
        writeHeader(UInt8(ascii: ":"), value)
    }

    /// The null reply: `$-1\r\n` in RESP2, `_\r\n` in RESP3.
    public mutating func writeRESPNull(version: RESPVersion) {
        if version == .resp3 {
            writeStaticString("_\r\n")
        } else {
            writeStaticString("$-1\r\n")
        }
    }

    /// The null array reply: `*-1\r\n` in RESP2, `_\r\n` in RESP3.
    public mutating func writeRESPNullArray(version: RESPVersion) {
        if version == .resp3 {
            writeStaticString("_\r\n")
        } else {
            writeStaticString("*-1\r\n")
        }
    }

    /// `#t\r\n`/`#f\r\n` in RESP3, `:1\r\n`/`:0\r\n` in RESP2.
    public mutating func writeRESPBoolean(_ value: Bool, version: RESPVersion) {
        switch (version, value) {
        case (.resp3, true): writeStaticString("#t\r\n")
        case (.resp3, false): writeStaticString("#f\r\n")
        case (.resp2, true): writeStaticString(":1\r\n")
        case (.resp2, false): writeStaticString(":0\r\n")
        }
    }

    /// `,<text>\r\n` in RESP3, a bulk string of the text in RESP2; the text is `%.17g` like
    /// Redis 7.0, with `inf`, `-inf` and `nan` spelled out.
    public mutating func writeRESPDouble(_ value: Double, version: RESPVersion) {
        var text: [UInt8] = []
        Self.formatDouble(value, into: &text)
        if version == .resp3 {
            writeInteger(UInt8(ascii: ","))
            writeBytes(text)
            writeCRLF()
        } else {
            writeRESPBulkString(bytes: text)
        }
    }

    /// `*<n>\r\n`: follow it with `count` values.
    public mutating func writeRESPArrayHeader(_ count: Int) {
        writeHeader(UInt8(ascii: "*"), Int64(count))
    }

    /// `%<n>\r\n` in RESP3, `*<2n>\r\n` in RESP2: follow it with `count` key/value pairs.
    public mutating func writeRESPMapHeader(_ count: Int, version: RESPVersion) {
        if version == .resp3 {
            writeHeader(UInt8(ascii: "%"), Int64(count))
        } else {
            writeHeader(UInt8(ascii: "*"), Int64(count) &* 2)
        }
    }

    /// `~<n>\r\n` in RESP3, `*<n>\r\n` in RESP2.
    public mutating func writeRESPSetHeader(_ count: Int, version: RESPVersion) {
        writeHeader(version == .resp3 ? UInt8(ascii: "~") : UInt8(ascii: "*"), Int64(count))
    }

    /// `><n>\r\n` in RESP3, `*<n>\r\n` in RESP2.
    public mutating func writeRESPPushHeader(_ count: Int, version: RESPVersion) {
        writeHeader(version == .resp3 ? UInt8(ascii: ">") : UInt8(ascii: "*"), Int64(count))
    }

    // MARK: - Pieces

    @inline(__always)
    mutating func writeCRLF() {
        writeInteger(UInt16(0x0D0A), endianness: .big)
    }

    /// `<prefix><decimal>\r\n` in one write.
    @inline(__always)
    mutating func writeHeader(_ prefix: UInt8, _ value: Int64) {
        var magnitude = value.magnitude
        var digits = 1
        var probe = magnitude
        while probe >= 10 {
            probe /= 10
            digits &+= 1
        }
        let sign = value < 0 ? 1 : 0
        let total = 1 &+ sign &+ digits &+ 2
        writeWithUnsafeMutableBytes(minimumWritableBytes: total) { out in
            out[0] = prefix
            if sign == 1 { out[1] = UInt8(ascii: "-") }
            var i = total &- 3
            repeat {
                out[i] = UInt8(truncatingIfNeeded: magnitude % 10) &+ UInt8(ascii: "0")
                magnitude /= 10
                i &-= 1
            } while magnitude > 0
            out[total &- 2] = ByteScanning.cr
            out[total &- 1] = ByteScanning.lf
            return total
        }
    }

    /// `<prefix><text>\r\n` with CR/LF in `text` replaced by spaces.
    @inline(__always)
    mutating func writeLine(prefix: UInt8, _ text: ByteBuffer) {
        writeInteger(prefix)
        let clean = text.withUnsafeReadableBytes { bytes in
            ByteScanning.firstIndex(of: ByteScanning.cr, in: bytes, from: 0, to: bytes.count) == nil
                && ByteScanning.firstIndex(of: ByteScanning.lf, in: bytes, from: 0, to: bytes.count) == nil
        }
        if clean {
            writeImmutableBuffer(text)
        } else {
            text.withUnsafeReadableBytes { bytes in
                for byte in bytes {
                    writeInteger(byte == ByteScanning.cr || byte == ByteScanning.lf ? UInt8(ascii: " ") : byte)
                }
            }
        }
        writeCRLF()
    }

    /// `<prefix><text>\r\n` with CR/LF in `text` replaced by spaces, without an intermediate buffer.
    @inline(__always)
    mutating func writeLine(prefix: UInt8, _ text: String) {
        writeInteger(prefix)
        if text.utf8.contains(where: { $0 == ByteScanning.cr || $0 == ByteScanning.lf }) {
            for byte in text.utf8 {
                writeInteger(byte == ByteScanning.cr || byte == ByteScanning.lf ? UInt8(ascii: " ") : byte)
            }
        } else {
            writeString(text)
        }
        writeCRLF()
    }

    static func formatDouble(_ value: Double, into text: inout [UInt8]) {
        if value.isNaN {
            text.append(contentsOf: "nan".utf8)
        } else if value.isInfinite {
            text.append(contentsOf: (value > 0 ? "inf" : "-inf").utf8)
        } else {
            withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { out in
                guard let base = out.baseAddress else { return }
                let n = withVaList([value]) { vsnprintf(base, 64, "%.17g", $0) }
                guard n > 0 else { return }
                for i in 0..<min(Int(n), 63) { text.append(UInt8(bitPattern: out[i])) }
            }
        }
    }
}
