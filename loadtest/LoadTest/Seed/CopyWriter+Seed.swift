import Postgres

/// Field helpers for the table writers: timestamps, money and NULLs in PostgreSQL's text
/// form, built with integer arithmetic (no formatters per row).
extension CopyWriter {
    /// SQL NULL.
    mutating func null() {
        field(nil as String?)
    }

    /// A `timestamp` (UTC) from epoch seconds.
    mutating func timestamp(_ seconds: Int64) {
        field(UTCTime.timestamp(seconds))
    }

    /// A `timestamp` or NULL.
    mutating func timestamp(_ seconds: Int64?) {
        guard let seconds else { return null() }
        field(UTCTime.timestamp(seconds))
    }

    /// A `date` from epoch seconds.
    mutating func date(_ seconds: Int64) {
        field(UTCTime.date(seconds))
    }

    /// A `numeric(p, 2)` from an integer number of hundredths (cents).
    mutating func hundredths(_ value: Int) {
        field(Decimal2.text(value))
    }

    /// A `numeric(p, 2)` or NULL.
    mutating func hundredths(_ value: Int?) {
        guard let value else { return null() }
        field(Decimal2.text(value))
    }
}

/// Two-decimal numbers (money, ratings, scores) as exact text, without floating point.
enum Decimal2 {
    static func text(_ hundredths: Int) -> String {
        let sign = hundredths < 0 ? "-" : ""
        let magnitude = hundredths.magnitude
        let fraction = magnitude % 100
        return sign + String(magnitude / 100) + (fraction < 10 ? ".0" : ".") + String(fraction)
    }
}
