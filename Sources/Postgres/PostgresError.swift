/// Errors from PostgreSQL, carrying what an operator needs to act: the address that
/// was tried, the SQLSTATE and PostgreSQL's own message.
public enum PostgresError: Error, CustomStringConvertible, Sendable {
    /// The server could not be reached or refused the connection.
    case connectionFailed(address: String, message: String)
    /// A statement failed; `sqlState` is PostgreSQL's five-character error code.
    case queryFailed(sqlState: String?, message: String)
    /// The connection broke while in use.
    case connectionLost(address: String, message: String)
    /// A COPY stream was refused or failed part way.
    case copyFailed(message: String)
    /// A value in a result row did not have the expected form.
    case unexpectedValue(column: String, value: String?)

    public var description: String {
        switch self {
        case let .connectionFailed(address, message):
            return "cannot connect to PostgreSQL at \(address): \(message)"
        case let .queryFailed(sqlState, message):
            if let sqlState { return "PostgreSQL error \(sqlState): \(message)" }
            return "PostgreSQL error: \(message)"
        case let .connectionLost(address, message):
            return "lost the PostgreSQL connection to \(address): \(message)"
        case let .copyFailed(message):
            return "COPY failed: \(message)"
        case let .unexpectedValue(column, value):
            return "unexpected value \(value.map { "'\($0)'" } ?? "NULL") in column \(column)"
        }
    }

    /// The SQLSTATE of a failed statement, if any.
    public var sqlState: String? {
        if case let .queryFailed(state, _) = self { return state }
        return nil
    }
}
