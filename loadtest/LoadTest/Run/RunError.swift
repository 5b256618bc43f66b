/// Why a run could not start or had to stop; each reads as one line.
public enum RunError: Error, CustomStringConvertible, Sendable {
    case invalidOption(String)
    case unreachable(target: String, message: String)
    case postgres(String)
    case emptyUniverse(String)

    public var description: String {
        switch self {
        case let .invalidOption(text): return text
        case let .unreachable(target, message): return "cannot connect to \(target): \(message)"
        case let .postgres(text): return "PostgreSQL: \(text)"
        case let .emptyUniverse(text): return text
        }
    }
}
