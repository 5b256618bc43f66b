/// The users that may connect, their passwords and roles, as Redis's `requirepass` (the
/// `default` user) and ACL users. Empty: no authentication, and everyone is an admin, as
/// on a fresh Redis. Roles keep the API tier away from operator commands (flushes).
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
        var password: String
        var role: Role
    }

    private var entries: [String: Entry]

    /// Users with passwords, all admins.
    public init(passwords: [String: String] = [:]) {
        self.entries = passwords.mapValues { Entry(password: $0, role: .admin) }
    }

    /// Redis's `requirepass`: a password for the default user (an admin).
    public init(requirePass: String?) {
        self.init(passwords: requirePass.map { [Self.defaultUserName: $0] } ?? [:])
    }

    /// `requirepass` plus the users of `server.users` (see `parseUsers`).
    public init(requirePass: String?, users: [(name: String, password: String, role: Role)]) {
        self.init(requirePass: requirePass)
        for user in users { entries[user.name] = Entry(password: user.password, role: user.role) }
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

    /// Checks a user name and password in time independent of where they differ.
    public func verify(user: String, password: String) -> Bool {
        guard let expected = entries[user]?.password else { return false }
        return constantTimeEquals(Array(expected.utf8), Array(password.utf8))
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
