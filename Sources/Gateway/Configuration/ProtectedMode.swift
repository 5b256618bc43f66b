/// Redis's protected mode at start-up: a gateway that listens beyond loopback with no password
/// would serve the cache's personal data (names, e-mail addresses) to anyone who reaches the
/// port, so it refuses to start unless a password is set or protection is turned off by name.
enum ProtectedMode {
    static func check(_ server: ServerConfiguration) throws {
        guard server.protectedMode, !server.users.requiresAuthentication, !isLoopback(server.host) else { return }
        throw ProtectedModeError(host: server.host)
    }

    /// `localhost`, `127.0.0.0/8` and `::1`. Any other name or address (`0.0.0.0`, `::`, a
    /// host name) may be reachable from elsewhere.
    static func isLoopback(_ host: String) -> Bool {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if bare.lowercased() == "localhost" || bare == "::1" { return true }
        let octets = bare.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
}

/// The gateway would listen on a non-loopback address without a password.
public struct ProtectedModeError: Error, CustomStringConvertible, Sendable {
    public let host: String

    public var description: String {
        "protected mode: server.host is '\(host)', which is not a loopback address, and no password is set, "
            + "so anyone who reaches the port could read the cache. Set a password (server.requirepass or "
            + "server.requirepass_file, or users in server.users or server.users_file; e.g. "
            + "QUICKSELL_SERVER_REQUIREPASS_FILE=/run/secrets/gateway), or listen on 127.0.0.1, or, on a "
            + "network you trust, turn the protection off with 'server.protected_mode: no' "
            + "(QUICKSELL_SERVER_PROTECTED_MODE=no)"
    }
}
