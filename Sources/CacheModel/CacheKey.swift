import NIOCore

/// A validated key of one family. Parsing is strict so that nothing malformed ever
/// reaches PostgreSQL: the id is a positive integer in canonical decimal form.
public struct CacheKey: Hashable, Sendable {
    public let family: KeyFamily
    /// The row id; 0 for the leaderboards.
    public let id: Int64

    public init(family: KeyFamily, id: Int64) {
        self.family = family
        self.id = id
    }

    /// The key name clients and Redis use (`listing:42`).
    public var name: String { family.hasID ? "\(family.rawValue):\(id)" : family.rawValue }

    /// Parses a key from a request argument.
    public static func parse(_ key: ByteBuffer) -> Result<CacheKey, CacheKeyError> {
        key.withUnsafeReadableBytes { parse(bytes: $0) }
    }

    public static func parse(_ key: String) -> Result<CacheKey, CacheKeyError> {
        var key = key
        return key.withUTF8 { parse(bytes: UnsafeRawBufferPointer($0)) }
    }

    package static func parse(bytes: UnsafeRawBufferPointer) -> Result<CacheKey, CacheKeyError> {
        if matches(bytes, "leaderboard:weekly") { return .success(CacheKey(family: .leaderboardWeekly, id: 0)) }
        if matches(bytes, "leaderboard:monthly") { return .success(CacheKey(family: .leaderboardMonthly, id: 0)) }
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else {
            return .failure(.unknownFamily(printable(bytes)))
        }
        let prefix = UnsafeRawBufferPointer(rebasing: bytes[..<colon])
        let family: KeyFamily
        if matches(prefix, "user") {
            family = .user
        } else if matches(prefix, "listing") {
            family = .listing
        } else if matches(prefix, "marketplace_listings") {
            family = .marketplaceListings
        } else if matches(prefix, "user_stats") {
            family = .userStats
        } else if matches(prefix, "user_badges") {
            family = .userBadges
        } else {
            return .failure(.unknownFamily(printable(bytes)))
        }
        let digits = UnsafeRawBufferPointer(rebasing: bytes[(colon + 1)...])
        guard let id = canonicalPositiveInteger(digits) else {
            return .failure(.invalidID(printable(bytes), family: family))
        }
        return .success(CacheKey(family: family, id: id))
    }

    /// `1`…`9223372036854775807` with no sign, no leading zero, nothing else.
    private static func canonicalPositiveInteger(_ digits: UnsafeRawBufferPointer) -> Int64? {
        guard let first = digits.first, first >= UInt8(ascii: "1"), first <= UInt8(ascii: "9"), digits.count <= 19 else {
            return nil
        }
        var value: Int64 = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = shifted.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            if overflow1 || overflow2 { return nil }
            value = sum
        }
        return value
    }

    private static func matches(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        guard bytes.count == literal.utf8CodeUnitCount else { return false }
        return literal.withUTF8Buffer { expected in
            bytes.elementsEqual(expected)
        }
    }

    /// Key text safe for an error line: printable ASCII kept, the rest escaped, bounded.
    package static func printable(_ bytes: UnsafeRawBufferPointer) -> String {
        var text = ""
        for byte in bytes.prefix(64) {
            if byte >= 0x20 && byte < 0x7f && byte != UInt8(ascii: "'") && byte != UInt8(ascii: "\\") {
                text.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = String(byte, radix: 16)
                text += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        if bytes.count > 64 { text += "..." }
        return text
    }
}

/// Why a key was refused; the message says what a valid key looks like.
public enum CacheKeyError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownFamily(String)
    case invalidID(String, family: KeyFamily)

    public var description: String {
        switch self {
        case .unknownFamily(let key):
            return "ERR unknown key family for '\(key)': the gateway serves \(KeyFamily.patternList)"
        case .invalidID(let key, let family):
            return "ERR invalid key '\(key)': \(family.keyPattern) needs an id that is a positive integer in canonical decimal form"
        }
    }
}
