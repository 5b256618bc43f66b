import NIOCore

/// Splits an inline command line into arguments with the quoting rules of Redis's
/// `sdssplitargs`, producing slices of the input when the argument's bytes are unchanged.
///
/// Outside quotes, arguments are separated by blanks. In double quotes `\n \r \t \b \a`,
/// `\xHH` and `\<any>` are escapes; in single quotes only `\'`. A closing quote must be followed
/// by a blank or the end of the line. A NUL byte ends the line, as it does for Redis.
enum InlineCommandSplitter {
    /// Appends the arguments of `source`'s readable bytes `[0, end)` to `arguments`.
    /// Returns false when quotes are unbalanced.
    static func split(_ source: ByteBuffer, end lineEnd: Int, into arguments: inout [ByteBuffer]) -> Bool {
        source.withUnsafeReadableBytes { bytes in
            let end = ByteScanning.firstIndex(of: 0, in: bytes, from: 0, to: lineEnd) ?? lineEnd
            @inline(__always) func at(_ i: Int) -> UInt8 { i < end ? bytes[i] : 0 }

            var p = 0
            while true {
                while p < end && isSpace(bytes[p]) { p &+= 1 }
                if p >= end { return true }

                var token = TokenBuilder()
                // The quote the argument is inside (`"` or `'`), nil outside quotes.
                var quote: UInt8?
                var done = false
                while !done {
                    let c = at(p)
                    if let open = quote {
                        let doubleQuoted = open == UInt8(ascii: "\"")
                        if doubleQuoted && c == UInt8(ascii: "\\") && at(p &+ 1) == UInt8(ascii: "x"),
                            let high = hexValue(at(p &+ 2)), let low = hexValue(at(p &+ 3))
                        {
                            token.appendTransformed(high &* 16 &+ low, bytes)
                            p &+= 3
                        } else if doubleQuoted && c == UInt8(ascii: "\\") && at(p &+ 1) != 0 {
                            p &+= 1
                            switch at(p) {
                            case UInt8(ascii: "n"): token.appendTransformed(0x0A, bytes)
                            case UInt8(ascii: "r"): token.appendTransformed(0x0D, bytes)
                            case UInt8(ascii: "t"): token.appendTransformed(0x09, bytes)
                            case UInt8(ascii: "b"): token.appendTransformed(0x08, bytes)
                            case UInt8(ascii: "a"): token.appendTransformed(0x07, bytes)
                            default: token.appendSource(p, bytes)
                            }
                        } else if !doubleQuoted && c == UInt8(ascii: "\\") && at(p &+ 1) == UInt8(ascii: "'") {
                            p &+= 1
                            token.appendSource(p, bytes)
                        } else if c == open {
                            if at(p &+ 1) != 0 && !isSpace(at(p &+ 1)) { return false }
                            done = true
                        } else if c == 0 {
                            return false
                        } else {
                            token.appendSource(p, bytes)
                        }
                    } else {
                        switch c {
                        case UInt8(ascii: " "), 0x0A, 0x0D, 0x09, 0:
                            done = true
                        case UInt8(ascii: "\""), UInt8(ascii: "'"):
                            quote = c
                        default:
                            token.appendSource(p, bytes)
                        }
                    }
                    if at(p) != 0 { p &+= 1 }
                }
                arguments.append(token.finish(source))
            }
        }
    }

    /// C `isspace` in the C locale.
    @inline(__always)
    static func isSpace(_ c: UInt8) -> Bool {
        c == 0x20 || (c >= 0x09 && c <= 0x0D)
    }

    @inline(__always)
    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c &- UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c &- UInt8(ascii: "a") &+ 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c &- UInt8(ascii: "A") &+ 10
        default: return nil
        }
    }

    /// One argument: a contiguous range of the input while that is what it equals, else a copy.
    private struct TokenBuilder {
        var rangeStart = 0
        var rangeEnd = 0
        var copy: ByteBuffer?

        @inline(__always)
        mutating func appendSource(_ index: Int, _ bytes: UnsafeRawBufferPointer) {
            if copy == nil {
                if rangeStart == rangeEnd {
                    rangeStart = index
                    rangeEnd = index &+ 1
                    return
                }
                if rangeEnd == index {
                    rangeEnd &+= 1
                    return
                }
                startCopy(bytes)
            }
            copy?.writeInteger(bytes[index])
        }

        @inline(__always)
        mutating func appendTransformed(_ byte: UInt8, _ bytes: UnsafeRawBufferPointer) {
            if copy == nil { startCopy(bytes) }
            copy?.writeInteger(byte)
        }

        private mutating func startCopy(_ bytes: UnsafeRawBufferPointer) {
            var buffer = ByteBuffer()
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[rangeStart..<rangeEnd]))
            copy = buffer
        }

        func finish(_ source: ByteBuffer) -> ByteBuffer {
            if let copy { return copy }
            return source.getSlice(at: source.readerIndex &+ rangeStart, length: rangeEnd &- rangeStart) ?? ByteBuffer()
        }
    }
}
