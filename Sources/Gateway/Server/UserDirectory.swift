/// The users that may connect and their passwords, as Redis's `requirepass` (the
/// `default` user) and ACL users. Empty: no authentication, as a fresh Redis.
public struct UserDirectory: Sendable {
    /// Name of the user a connection starts as, as in Redis.
    public static let defaultUserName = "default"

    private var passwords: [String: String]

    public init(passwords: [String: String] = [:]) {
        self.passwords = passwords
    }

    /// Redis's `requirepass`: a password for the default user.
    public init(requirePass: String?) {
        self.passwords = requirePass.map { [Self.defaultUserName: $0] } ?? [:]
    }

    /// Whether clients must authenticate before running commands.
    public var requiresAuthentication: Bool { !passwords.isEmpty }

    /// Whether the default user has a password (AUTH with one argument makes sense).
    public var defaultUserHasPassword: Bool { passwords[Self.defaultUserName] != nil }

    /// Checks a user name and password in time independent of where they differ.
    public func verify(user: String, password: String) -> Bool {
        guard let expected = passwords[user] else { return false }
        return constantTimeEquals(Array(expected.utf8), Array(password.utf8))
    }

    /// Names of the configured users, for configuration dumps (never their passwords).
    public var userNames: [String] { passwords.keys.sorted() }
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
