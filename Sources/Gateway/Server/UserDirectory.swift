import CLibCrypto

/// The users that may connect, their passwords and roles, as Redis's `requirepass` (the
/// `default` user) and ACL users. Empty: no authentication, and everyone is an admin, as
/// on a fresh Redis. Roles keep the API tier away from operator commands (flushes).
///
/// A configured password is either the password itself or, as in Redis ACL, `#` and the 64 hex
/// digits of its SHA-256, so that the configuration need not hold it. Only SHA-256 digests are
/// kept, and an `AUTH` compares the digest of what it was given, in constant time.
public struct UserDirectory: Sendable {
    /// Name of the user a connection starts as, as in Redis.
    public static let defaultUserName = "default"

    /// What a user may do.
    public enum Role: String, Sendable, CaseIterable {
        /// Everything, including `QUICKSELL …` operator commands and `DEL`/`UNLINK`.
        case admin
        /// Reads only (`GET`, `MGET`, …); operator commands get `-NOPERM`.
        case read
    }

    private struct Entry: Sendable {
        /// SHA-256 of the password.
        var digest: [UInt8]
        var role: Role
    }

    private var entries: [String: Entry]

    /// Users with passwords (or `#<sha-256 hex>`), all admins.
    public init(passwords: [String: String] = [:]) {
        self.entries = passwords.mapValues { Entry(digest: Self.digest(configured: $0), role: .admin) }
    }

    /// Redis's `requirepass`: a password for the default user (an admin).
    public init(requirePass: String?) {
        self.init(passwords: requirePass.map { [Self.defaultUserName: $0] } ?? [:])
    }

    /// `requirepass` plus the users of `server.users` (see `parseUsers`).
    public init(requirePass: String?, users: [(name: String, password: String, role: Role)]) {
        self.init(requirePass: requirePass)
        for user in users { entries[user.name] = Entry(digest: Self.digest(configured: user.password), role: user.role) }
    }

    /// Whether clients must authenticate before running commands.
    public var requiresAuthentication: Bool { !entries.isEmpty }

    /// Whether the default user has a password (AUTH with one argument makes sense).
    public var defaultUserHasPassword: Bool { entries[Self.defaultUserName] != nil }

    /// Redis's AUTH rule: without any password configured the default user has none (`nopass`)
    /// and accepts any password; every other user needs its own.
    public func authenticates(user: String, password: String) -> Bool {
        requiresAuthentication ? verify(user: user, password: password) : user == Self.defaultUserName
    }

    /// Checks a user name and password in time independent of where they differ (both sides
    /// are 32-byte digests, so not even the password's length shows).
    public func verify(user: String, password: String) -> Bool {
        let given = Self.sha256(password)
        guard let expected = entries[user]?.digest, expected.count == 32, given.count == 32 else { return false }
        return constantTimeEquals(expected, given)
    }

    /// Whether a configured password has a valid form: a `#` starts a SHA-256 hash, which must
    /// then be 64 hex digits (a password itself cannot start with `#`, as in Redis ACL).
    public static func isValidConfiguredPassword(_ text: String) -> Bool {
        hashDigest(text) != nil || !text.hasPrefix("#")
    }

    /// What a malformed hash should look like, for configuration errors.
    public static let passwordForms = "a password, or '#' and the 64 hex digits of its SHA-256 "
        + "(as in Redis ACL: printf %s PASSWORD | sha256sum)"

    /// The digest a configured password stands for: the hash it gives, else its own SHA-256.
    private static func digest(configured text: String) -> [UInt8] {
        hashDigest(text) ?? sha256(text)
    }

    /// `#` and 64 hex digits (either case) as 32 bytes; nil for anything else.
    private static func hashDigest(_ text: String) -> [UInt8]? {
        let hex = Array(text.utf8.dropFirst())
        guard text.hasPrefix("#"), hex.count == 64 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for index in stride(from: 0, to: 64, by: 2) {
            guard let high = hexValue(hex[index]), let low = hexValue(hex[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func hexValue(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func sha256(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let succeeded = bytes.withUnsafeBytes { input in
            EVP_Digest(input.baseAddress, input.count, &digest, &length, EVP_sha256(), nil) == 1
        }
        // EVP_Digest of SHA-256 fails only without memory; an empty digest then matches no password.
        return succeeded && length == 32 ? digest : []
    }

    /// Whether `user` may run operator commands: always when no authentication is configured.
    public func isAdmin(_ user: String?) -> Bool {
        guard requiresAuthentication else { return true }
        guard let user else { return false }
        return entries[user]?.role == .admin
    }

    /// `name:role` of each user, for configuration dumps.
    public var userRoles: [String] { entries.keys.sorted().map { "\($0):\(entries[$0]?.role.rawValue ?? "")" } }

    /// Parses `server.users`: `name:password:role` entries separated by commas or
    /// whitespace; role is `admin` or `read` (`readonly` also accepted). Passwords may not
    /// contain `,` or whitespace; a colon inside a password is fine (the role is the last field).
    /// A malformed entry fails naming its user, never its password.
    public static func parseUsers(_ text: String) -> Result<[(name: String, password: String, role: Role)], UserListError> {
        var users: [(name: String, password: String, role: Role)] = []
        let separators: Set<Character> = [",", " ", "\n", "\t"]
        for entry in text.split(whereSeparator: { separators.contains($0) }) {
            guard let firstColon = entry.firstIndex(of: ":"), let lastColon = entry.lastIndex(of: ":"),
                  firstColon != lastColon else {
                return .failure(UserListError(entry: String(entry.prefix(while: { $0 != ":" }))))
            }
            let name = String(entry[..<firstColon])
            let password = String(entry[entry.index(after: firstColon)..<lastColon])
            let roleText = entry[entry.index(after: lastColon)...].lowercased()
            let role: Role
            switch roleText {
            case "admin": role = .admin
            case "read", "readonly", "read-only": role = .read
            default: return .failure(UserListError(entry: name))
            }
            guard !name.isEmpty, !password.isEmpty else { return .failure(UserListError(entry: name)) }
            users.append((name, password, role))
        }
        return .success(users)
    }
}

/// A malformed `server.users` entry, named by its user (the password is never shown).
public struct UserListError: Error, Sendable {
    public let entry: String
}

private func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
    var difference = UInt8(lhs.count == rhs.count ? 0 : 1)
    let count = max(lhs.count, rhs.count)
    for index in 0..<count {
        let left = index < lhs.count ? lhs[index] : 0
        let right = index < rhs.count ? rhs[index] : 0
        difference |= left ^ right
    }
    return difference == 0
}
