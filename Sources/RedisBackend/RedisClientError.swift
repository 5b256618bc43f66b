import NIOCore

/// Why a command sent to Redis did not get a reply. A Redis error reply (`-ERR ...`) is not one
/// of these: it is a successful `RESPValue.error`. Every case names the Redis address so that an
/// operator reading a log line knows which server is in trouble.
public enum RedisClientError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The TCP connection could not be made, or the client is waiting to retry after such a failure.
    case connectionFailed(address: String, reason: String)
    /// The connection ended while the command was waiting for its reply.
    case connectionClosed(address: String)
    /// The oldest pending command waited longer than `commandTimeout`; the connection was reset.
    case timeout(address: String, after: TimeAmount)
    /// More than `maxPendingCommands` were waiting on the connection: failing fast instead of queueing.
    case overloaded(address: String)
    /// Redis refused the configured credentials; `reason` is Redis's own message.
    case authenticationFailed(address: String, reason: String)
    /// `shutdown()` was called.
    case shutDown
    /// A command needs at least one argument (Redis would not answer an empty one).
    case emptyCommand

    public var description: String {
        switch self {
        case .connectionFailed(let address, let reason):
            return "cannot connect to Redis at \(address): \(reason)"
        case .connectionClosed(let address):
            return "connection to Redis at \(address) closed before the reply arrived"
        case .timeout(let address, let after):
            return "Redis at \(address) did not reply within \(Self.format(after))"
        case .overloaded(let address):
            return "too many commands waiting for Redis at \(address)"
        case .authenticationFailed(let address, let reason):
            return "authentication to Redis at \(address) failed: \(reason)"
        case .shutDown:
            return "the Redis client is shut down"
        case .emptyCommand:
            return "a Redis command needs at least one argument"
        }
    }

    /// `100 ms`, `2 s`, `1.5 s`.
    static func format(_ amount: TimeAmount) -> String {
        let nanoseconds = amount.nanoseconds
        if nanoseconds % 1_000_000_000 == 0 { return "\(nanoseconds / 1_000_000_000) s" }
        if nanoseconds < 1_000_000_000 { return "\(nanoseconds / 1_000_000) ms" }
        return "\(Double(nanoseconds / 1_000_000) / 1000) s"
    }
}
