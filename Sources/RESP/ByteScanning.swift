#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Byte-level helpers shared by the decoders: line finding with `memchr` and Redis's strict
/// `string2ll` integer syntax, all on raw bytes so that parsing never allocates.
enum ByteScanning {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A

    /// Outcome of looking for the end of a line.
    enum LineEnd: Equatable {
        /// The line's content ends at this offset (where its terminator starts).
        case found(Int)
        case needMore
        case tooLong
    }

    /// Offset of the first `byte` in `bytes[from..<to]`, found with `memchr`.
    @inline(__always)
    static func firstIndex(of byte: UInt8, in bytes: UnsafeRawBufferPointer, from: Int, to: Int) -> Int? {
        guard from < to, let base = bytes.baseAddress else { return nil }
        guard let hit = memchr(base + from, Int32(byte), to - from) else { return nil }
        return UnsafeRawPointer(hit) - base
    }

    /// Finds the first CRLF at or after `from` (the reply grammar: a bare CR is content).
    /// A line whose content is longer than `maxLength` is `.tooLong`, however it was split.
    @inline(__always)
    static func findCRLF(in bytes: UnsafeRawBufferPointer, from: Int, maxLength: Int) -> LineEnd {
        let count = bytes.count
        let searchEnd = min(count, from &+ maxLength &+ 1)
        var start = from
        while let r = firstIndex(of: cr, in: bytes, from: start, to: searchEnd) {
            if r &+ 1 >= count { return .needMore }
            if bytes[r &+ 1] == lf { return .found(r) }
            start = r &+ 1
        }
        return count &- from > maxLength ? .tooLong : .needMore
    }

    /// Finds the first CR at or after `from` (the request header grammar, as Redis reads it).
    @inline(__always)
    static func findCR(in bytes: UnsafeRawBufferPointer, from: Int, maxLength: Int) -> LineEnd {
        let count = bytes.count
        if let r = firstIndex(of: cr, in: bytes, from: from, to: min(count, from &+ maxLength &+ 1)) {
            return .found(r)
        }
        return count &- from > maxLength ? .tooLong : .needMore
    }

    /// Parses `bytes[from..<to]` with the rules of Redis's `string2ll`: an optional `-`, then
    /// digits without leading zeros (`0` alone is fine, `-0` and `+1` are not), no overflow.
    /// hiredis reads integers and lengths the same way.
    @inline(__always)
    static func parseInt64(_ bytes: UnsafeRawBufferPointer, from: Int, to: Int) -> Int64? {
        var i = from
        guard i < to else { return nil }
        if to &- i == 1 && bytes[i] == UInt8(ascii: "0") { return 0 }
        var negative = false
        if bytes[i] == UInt8(ascii: "-") {
            negative = true
            i &+= 1
        }
        guard i < to else { return nil }
        let first = bytes[i] &- UInt8(ascii: "0")
        guard first >= 1 && first <= 9 else { return nil }
        var value = UInt64(first)
        i &+= 1
        while i < to {
            let digit = bytes[i] &- UInt8(ascii: "0")
            guard digit <= 9 else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(digit))
            guard !o1 && !o2 else { return nil }
            value = sum
            i &+= 1
        }
        if negative {
            guard value <= UInt64(Int64.max) &+ 1 else { return nil }
            return value == UInt64(Int64.max) &+ 1 ? Int64.min : -Int64(value)
        }
        guard value <= UInt64(Int64.max) else { return nil }
        return Int64(value)
    }
}
