/// Why a retention run stopped; what was committed before stays done, and a new run resumes.
public enum RetentionError: Error, CustomStringConvertible, Sendable {
    case unexpectedReply(String)
    case alreadyRunning
    case exportMismatch(file: String, expected: Int, found: Int)
    case notMigrated

    public var description: String {
        switch self {
        case let .unexpectedReply(what):
            return "unexpected reply from PostgreSQL: \(what)"
        case .alreadyRunning:
            return "another retention run holds this database's retention lock; try again when it ends"
        case let .exportMismatch(file, expected, found):
            return "export \(file) holds \(found) rows where PostgreSQL counted \(expected); "
                + "nothing of that month was deleted"
        case .notMigrated:
            return "this database has no retention functions: run quicksell-cache migrate first (migration 010)"
        }
    }
}
