/// Why seeding refused or failed, phrased for the one-line CLI error.
public enum SeedError: Error, CustomStringConvertible, Sendable, Equatable {
    case invalidUserCount(Int)
    case databaseNotEmpty(tables: [String])
    case schemaMissing(table: String)

    public var description: String {
        switch self {
        case let .invalidUserCount(count):
            return "--users must be between 1 and \(SeedPlan.maximumUsers), got \(count)"
        case let .databaseNotEmpty(tables):
            return "the database already holds data (in \(tables.joined(separator: ", "))); "
                + "pass --truncate to replace it or --if-empty to leave it alone"
        case let .schemaMissing(table):
            return "table \(table) does not exist: apply the schema first (quicksell-cache migrate)"
        }
    }
}
