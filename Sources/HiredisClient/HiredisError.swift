/// Why a hiredis connection failed; every case names the address, so that a message read
/// on its own says which server was meant.
public enum HiredisError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The TCP connection (or its setup) failed: refused, timed out, unknown host.
    case cannotConnect(address: String, reason: String)
    /// hiredis could not allocate a context or its output buffer.
    case outOfMemory(address: String)
    /// Reading or writing an established connection failed (closed, reset, timed out).
    case connectionLost(address: String, reason: String)
    /// `AUTH` was answered with an error.
    case authenticationRefused(address: String, user: String, message: String)

    /// `host:port` of the server.
    public var address: String {
        switch self {
        case .cannotConnect(let address, _), .outOfMemory(let address), .connectionLost(let address, _),
             .authenticationRefused(let address, _, _):
            return address
        }
    }

    /// The cause without the address, for callers that phrase their own message.
    public var reason: String {
        switch self {
        case .cannotConnect(_, let reason), .connectionLost(_, let reason): return reason
        case .outOfMemory: return "out of memory"
        case .authenticationRefused(_, let user, let message): return "authentication as '\(user)' failed: \(message)"
        }
    }

    public var description: String {
        switch self {
        case .cannotConnect(let address, let reason): return "cannot connect to \(address): \(reason)"
        case .outOfMemory(let address): return "cannot talk to \(address): out of memory"
        case .connectionLost(let address, let reason): return "lost the connection to \(address): \(reason)"
        case .authenticationRefused(let address, let user, let message):
            return "authentication to \(address) as '\(user)' failed: \(message)"
        }
    }
}
