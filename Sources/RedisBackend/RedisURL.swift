/// A `redis://` URL that could not be read. The description quotes the URL with its password
/// masked, and shows the form that is expected, so a typo in a config file is quick to fix.
public struct RedisURLError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The URL as given, password replaced by `****`.
    public let maskedURL: String
    public let problem: String

    public static let expectedForm = "redis[s]://[[user]:password@]host[:port][/db]"

    public var description: String {
        "invalid Redis URL '\(maskedURL)': \(problem) (expected \(Self.expectedForm))"
    }
}

/// The parts of `redis[s]://[[user]:password@]host[:port][/db]`. Percent-escapes in the user and
/// password are decoded; `db` is a database index (default 0); `rediss://` asks for TLS.
struct RedisURL: Equatable {
    var tls: Bool
    var host: String
    var port: Int
    var username: String?
    var password: String?
    var database = 0

    init(parsing url: String) throws(RedisURLError) {
        let masked = Self.mask(url)
        func fail(_ problem: String) -> RedisURLError { RedisURLError(maskedURL: masked, problem: problem) }

        tls = url.lowercased().hasPrefix("rediss://")
        let scheme = tls ? "rediss://" : "redis://"
        guard url.lowercased().hasPrefix(scheme) else { throw fail("the scheme must be redis:// or rediss:// (TLS)") }
        var rest = Substring(url.dropFirst(scheme.count))

        // Path: nothing, "/" or "/db".
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            if !path.isEmpty {
                guard path.allSatisfy(\.isASCII), let index = Int(path), (0...100_000).contains(index) else {
                    throw fail("the database must be a number from 0")
                }
                database = index
            }
            rest = rest[..<slash]
        }

        // Credentials: "user:password@" or ":password@".
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            guard let colon = userInfo.firstIndex(of: ":") else {
                throw fail("credentials must be user:password@ or :password@")
            }
            guard let user = Self.percentDecoded(userInfo[..<colon]),
                let password = Self.percentDecoded(userInfo[userInfo.index(after: colon)...])
            else { throw fail("bad percent-escape in the credentials") }
            username = user.isEmpty ? nil : user
            self.password = password.isEmpty ? nil : password
        } else {
            username = nil
            password = nil
        }

        // Host and port; an IPv6 literal is bracketed.
        var hostPart: Substring
        var portPart: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw fail("unclosed [ in the host") }
            hostPart = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw fail("unexpected text after the host") }
                portPart = after.dropFirst()
            }
        } else if let colon = rest.firstIndex(of: ":") {
            hostPart = rest[..<colon]
            portPart = rest[rest.index(after: colon)...]
        } else {
            hostPart = rest
        }
        guard !hostPart.isEmpty else { throw fail("the host is missing") }
        host = String(hostPart)
        if let portPart {
            guard let number = Int(portPart), (1...65535).contains(number) else {
                throw fail("the port must be a number from 1 to 65535")
            }
            port = number
        } else {
            port = 6379
        }
    }

    /// The URL with whatever sits between the last `:` of the user info and `@` replaced by `****`.
    static func mask(_ url: String) -> String {
        let separator = "://"
        guard let schemeStart = url.indices.first(where: { url[$0...].hasPrefix(separator) }) else { return url }
        let afterScheme = url[url.index(schemeStart, offsetBy: separator.count)...]
        let authorityEnd = afterScheme.firstIndex(of: "/") ?? afterScheme.endIndex
        let authority = afterScheme[..<authorityEnd]
        guard let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") else {
            return url
        }
        return String(url[..<authority.index(after: colon)]) + "****" + String(url[at...])
    }

    private static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                return nil
            }
            bytes.append(high << 4 | low)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
