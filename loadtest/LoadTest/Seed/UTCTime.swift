/// UTC calendar arithmetic on epoch seconds, without Foundation's formatters.
///
/// The seeder formats millions of timestamps; a `DateFormatter` per row would dominate the
/// run, and time-zone databases could differ between machines. Days ↔ civil dates use
/// Howard Hinnant's proleptic-Gregorian algorithms.
public enum UTCTime {
    public static let minute: Int64 = 60
    public static let hour: Int64 = 3_600
    public static let day: Int64 = 86_400

    /// Days since 1970-01-01 of a civil date.
    public static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The civil date of a day number (days since 1970-01-01).
    public static func civil(days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Floor division, so that times before 1970 land on the right day.
    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// Monday 00:00 UTC of the ISO week containing `seconds` (PostgreSQL's `date_trunc('week', …)`).
    public static func startOfISOWeek(_ seconds: Int64) -> Int64 {
        let days = floorDiv(seconds, day)
        // 1970-01-01 was a Thursday: (days + 3) mod 7 is 0 on Mondays.
        let sinceMonday = ((days + 3) % 7 + 7) % 7
        return (days - sinceMonday) * day
    }

    /// The 1st of the month, 00:00 UTC, of the month containing `seconds`.
    public static func startOfMonth(_ seconds: Int64) -> Int64 {
        let date = civil(days: floorDiv(seconds, day))
        return days(year: date.year, month: date.month, day: 1) * day
    }

    /// `YYYY-MM-DD HH:MM:SS`: PostgreSQL's text form of a `timestamp` (UTC).
    public static func timestamp(_ seconds: Int64) -> String {
        var bytes = [UInt8](repeating: 0, count: 19)
        let days = floorDiv(seconds, day)
        let inDay = seconds - days * day
        writeDate(days: days, into: &bytes)
        bytes[10] = UInt8(ascii: " ")
        two(inDay / hour, at: 11, into: &bytes)
        bytes[13] = UInt8(ascii: ":")
        two(inDay % hour / minute, at: 14, into: &bytes)
        bytes[16] = UInt8(ascii: ":")
        two(inDay % minute, at: 17, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `YYYY-MM-DD`: the text form of a `date`.
    public static func date(_ seconds: Int64) -> String {
        var bytes = [UInt8](repeating: 0, count: 10)
        writeDate(days: floorDiv(seconds, day), into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`, for messages and `--reference-time`.
    public static func iso8601(_ seconds: Int64) -> String {
        var text = timestamp(seconds)
        text = text.replacingFirstSpace(with: "T")
        return text + "Z"
    }

    /// Parses `YYYY-MM-DD[T| ]HH:MM[:SS[.fraction]][Z|±HH[:MM]]` (no zone means UTC) or a
    /// bare `YYYY-MM-DD`; fractions are truncated. Nil when malformed.
    public static func parseISO8601(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ count: Int) -> Int64? {
            guard index + count <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[index..<(index + count)] {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int64(byte - 48)
            }
            index += count
            return value
        }
        func expect(_ character: Character) -> Bool {
            guard index < bytes.count, let ascii = character.asciiValue, bytes[index] == ascii else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let dayOfMonth = number(2),
              (1...12).contains(month), dayOfMonth >= 1, dayOfMonth <= daysIn(month: month, year: year) else { return nil }
        var seconds = days(year: year, month: month, day: dayOfMonth) * day
        if index == bytes.count { return seconds }
        guard expect("T") || expect("t") || expect(" ") else { return nil }
        guard let hours = number(2), expect(":"), let minutes = number(2), hours < 24, minutes < 60 else { return nil }
        seconds += hours * hour + minutes * minute
        if expect(":") {
            guard let secs = number(2), secs < 60 else { return nil }
            seconds += secs
            if expect(".") || expect(",") {
                let start = index
                while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 { index += 1 }
                guard index > start else { return nil }
            }
        }
        if index == bytes.count || expect("Z") || expect("z") {
            return index == bytes.count ? seconds : nil
        }
        let sign: Int64
        if expect("+") { sign = 1 } else if expect("-") { sign = -1 } else { return nil }
        guard let offsetHours = number(2), offsetHours < 24 else { return nil }
        var offsetMinutes: Int64 = 0
        if index < bytes.count {
            _ = expect(":")
            guard let value = number(2), value < 60 else { return nil }
            offsetMinutes = value
        }
        guard index == bytes.count else { return nil }
        return seconds - sign * (offsetHours * hour + offsetMinutes * minute)
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private static func writeDate(days: Int64, into bytes: inout [UInt8]) {
        let date = civil(days: days)
        let year = max(0, min(9999, date.year))
        two(year / 100, at: 0, into: &bytes)
        two(year % 100, at: 2, into: &bytes)
        bytes[4] = UInt8(ascii: "-")
        two(date.month, at: 5, into: &bytes)
        bytes[7] = UInt8(ascii: "-")
        two(date.day, at: 8, into: &bytes)
    }

    private static func two(_ value: Int64, at offset: Int, into bytes: inout [UInt8]) {
        bytes[offset] = UInt8(48 + value / 10)
        bytes[offset + 1] = UInt8(48 + value % 10)
    }
}

private extension String {
    func replacingFirstSpace(with replacement: Character) -> String {
        guard let index = firstIndex(of: " ") else { return self }
        var copy = self
        copy.replaceSubrange(index...index, with: String(replacement))
        return copy
    }
}
