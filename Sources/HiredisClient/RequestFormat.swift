/// The RESP multibulk form of a command (`*N`, then `$len` and the bytes of each argument),
/// which hiredis sends as it is.
enum RequestFormat {
    static func multibulk(_ arguments: [String], into out: inout [UInt8]) {
        out.append(UInt8(ascii: "*"))
        appendDecimal(arguments.count, to: &out)
        for argument in arguments {
            out.append(UInt8(ascii: "$"))
            appendDecimal(argument.utf8.count, to: &out)
            out.append(contentsOf: argument.utf8)
            out.append(13)
            out.append(10)
        }
    }

    /// `value` in decimal, then CRLF.
    private static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        var divisor = 1
        while divisor <= value / 10 { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
        out.append(13)
        out.append(10)
    }
}
