import ArgumentParser
import CacheModel
import Foundation

/// Where the gateway is and who we are: flags, else a `redis://` URL, else the
/// `QUICKSELL_GATEWAY_*` environment variables, else 127.0.0.1:6380 without a password.
///
/// The flags are redis-cli's (`-h`, `-p`, `-a`, `-u`, `--user`), so `--help` has no `-h`. They
/// may come before the subcommand (`quicksell-cache -p 6380 stats`) or after it; after wins.
struct ConnectionOptions: ParsableArguments {
    @Option(name: [.customShort("h"), .long], help: "Gateway host (default: $QUICKSELL_GATEWAY_HOST, else 127.0.0.1).")
    var host: String?

    @Option(name: [.customShort("p"), .long], help: "Gateway port (default: $QUICKSELL_GATEWAY_PORT, else 6380).")
    var port: Int?

    @Option(help: "User name (default: $QUICKSELL_GATEWAY_USER; 'default' when only a password is given).")
    var user: String?

    @Option(name: [.customShort("a"), .long], help: "Password (default: $QUICKSELL_GATEWAY_PASSWORD).")
    var password: String?

    @Option(name: [.customShort("u"), .long],
            help: "redis://[user:password@]host[:port] (default: $QUICKSELL_GATEWAY_URL); the flags above win over it.")
    var url: String?

    /// These options were given, else `outer`'s (those given before the subcommand).
    func over(_ outer: ConnectionOptions) -> ConnectionOptions {
        var merged = outer
        if let host { merged.host = host }
        if let port { merged.port = port }
        if let user { merged.user = user }
        if let password { merged.password = password }
        if let url { merged.url = url }
        return merged
    }

    /// The address and credentials, after applying the fallbacks.
    func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> GatewayAddress {
        var address = GatewayAddress()
        if let text = environment["QUICKSELL_GATEWAY_URL"], !text.isEmpty { try address.apply(url: text) }
        if let host = environment["QUICKSELL_GATEWAY_HOST"], !host.isEmpty { address.host = host }
        if let text = environment["QUICKSELL_GATEWAY_PORT"], !text.isEmpty {
            guard let port = Int(text), (1...65_535).contains(port) else {
                throw CLIError("QUICKSELL_GATEWAY_PORT must be a port number, got '\(text)'")
            }
            address.port = port
        }
        if let user = environment["QUICKSELL_GATEWAY_USER"], !user.isEmpty { address.user = user }
        if let password = environment["QUICKSELL_GATEWAY_PASSWORD"], !password.isEmpty { address.password = password }
        if let url { try address.apply(url: url) }
        if let host { address.host = host }
        if let port {
            guard (1...65_535).contains(port) else { throw CLIError("--port must be in 1...65535, got \(port)") }
            address.port = port
        }
        if let user { address.user = user }
        if let password { address.password = password }
        return address
    }
}

/// A resolved gateway address and credentials.
struct GatewayAddress: Sendable {
    var host = "127.0.0.1"
    var port = GatewayDefaults.port
    var user: String?
    var password: String?

    /// `host:port`, for messages (never the password).
    var display: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    mutating func apply(url text: String) throws {
        guard let components = URLComponents(string: text), components.scheme == "redis",
              let host = components.host, !host.isEmpty else {
            throw CLIError("cannot use gateway URL '\(Self.redacted(text))': expected redis://[user:password@]host[:port]")
        }
        self.host = host
        if let port = components.port { self.port = port }
        if let user = components.user?.removingPercentEncoding, !user.isEmpty { self.user = user }
        if let password = components.password?.removingPercentEncoding, !password.isEmpty { self.password = password }
    }

    /// The URL with any password replaced, for error messages.
    static func redacted(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@"), let scheme = text.range(of: "://") else { return text }
        return String(text[..<scheme.upperBound]) + "…" + String(text[at...])
    }
}
