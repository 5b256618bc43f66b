import SystemPackage

/// Who may connect, from `server.requirepass` or `server.requirepass_file` and `server.users`
/// or `server.users_file`. The files keep passwords out of the YAML and the environment (a
/// mounted secret); either form may hold `#<sha-256 hex>` instead of a password.
struct Credentials {
    var users: UserDirectory
    var requirePassFile: String?
    var usersFile: String?
}

extension ConfigurationValues {
    func credentials() throws -> Credentials {
        let passwordKey = "server.requirepass", passwordFileKey = "server.requirepass_file"
        let usersKey = "server.users", usersFileKey = "server.users_file"
        let passwordFile = try string(passwordFileKey, default: "")
        let usersFile = try string(usersFileKey, default: "")
        var password = try string(passwordKey, default: "")
        var usersText = try string(usersKey, default: "")

        if !passwordFile.isEmpty {
            guard password.isEmpty else {
                throw ConfigurationError(key: passwordFileKey, expected: "\(passwordKey) or \(passwordFileKey), not both",
                                         found: passwordFile)
            }
            password = try CredentialFile.read(passwordFile, key: passwordFileKey).trimmingWhitespace
            guard !password.isEmpty else {
                throw ConfigurationError(key: passwordFileKey, expected: "a file holding the default user's password",
                                         found: "\(passwordFile): an empty file")
            }
        }
        let passwordSource = passwordFile.isEmpty ? passwordKey : passwordFileKey
        guard UserDirectory.isValidConfiguredPassword(password) else {
            throw ConfigurationError(key: passwordSource, expected: UserDirectory.passwordForms, found: "a malformed hash")
        }

        if !usersFile.isEmpty {
            guard usersText.isEmpty else {
                throw ConfigurationError(key: usersFileKey, expected: "\(usersKey) or \(usersFileKey), not both", found: usersFile)
            }
            usersText = CredentialFile.withoutComments(try CredentialFile.read(usersFile, key: usersFileKey))
        }
        let usersSource = usersFile.isEmpty ? usersKey : usersFileKey
        let users: [(name: String, password: String, role: UserDirectory.Role)]
        switch UserDirectory.parseUsers(usersText) {
        case .success(let parsed): users = parsed
        case .failure(let error):
            throw ConfigurationError(key: usersSource, expected: "name:password:role entries with role admin or read",
                                     found: "a malformed entry for user '\(error.entry)'")
        }
        if let user = users.first(where: { !UserDirectory.isValidConfiguredPassword($0.password) }) {
            throw ConfigurationError(key: usersSource, expected: UserDirectory.passwordForms,
                                     found: "a malformed hash for user '\(user.name)'")
        }
        return Credentials(users: UserDirectory(requirePass: password.isEmpty ? nil : password, users: users),
                           requirePassFile: passwordFile.isEmpty ? nil : passwordFile,
                           usersFile: usersFile.isEmpty ? nil : usersFile)
    }
}

/// Reading a file of secrets; a failure names the key and the path, never the contents.
enum CredentialFile {
    /// Most a secrets file may hold: a password file is a line, a users file some hundreds.
    static let maxBytes = 1 << 20

    static func read(_ path: String, key: String) throws -> String {
        do {
            let descriptor = try FileDescriptor.open(FilePath(path), .readOnly)
            let bytes: [UInt8] = try descriptor.closeAfter {
                var bytes: [UInt8] = []
                var chunk = [UInt8](repeating: 0, count: 4_096)
                while true {
                    let count = try chunk.withUnsafeMutableBytes { try descriptor.read(into: $0) }
                    if count == 0 { return bytes }
                    bytes += chunk[..<count]
                    if bytes.count > maxBytes { throw Errno.fileTooLarge }
                }
            }
            return String(decoding: bytes, as: UTF8.self)
        } catch {
            throw ConfigurationError(key: key, expected: "a readable file", found: "\(path): \(error)")
        }
    }

    /// A users file may comment: lines whose first non-blank character is `#` are left out.
    static func withoutComments(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !String($0).trimmingWhitespace.hasPrefix("#") }
            .joined(separator: "\n")
    }
}
