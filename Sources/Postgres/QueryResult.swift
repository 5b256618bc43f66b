/// The rows of one statement's result, as PostgreSQL's text representation.
///
/// Text is what the gateway wants: values are JSON made by PostgreSQL, and tests
/// compare PostgreSQL's exact text of numbers and timestamps.
public struct QueryResult: Sendable {
    public let columns: [String]
    public let rows: [[String?]]
    /// Rows affected by INSERT/UPDATE/DELETE (0 for other statements).
    public let affectedRows: Int

    public init(columns: [String], rows: [[String?]], affectedRows: Int) {
        self.columns = columns
        self.rows = rows
        self.affectedRows = affectedRows
    }

    /// The first column of the first row, if there is one.
    public var scalar: String? { rows.first?.first ?? nil }

    /// The first column of the first row as an integer, throwing when it is not one.
    public func scalarInt() throws -> Int {
        guard let text = scalar, let value = Int(text) else {
            throw PostgresError.unexpectedValue(column: columns.first ?? "?", value: scalar)
        }
        return value
    }

    /// The value of `column` in `row`, by column name.
    public func value(_ column: String, row: Int) -> String? {
        guard row < rows.count, let index = columns.firstIndex(of: column) else { return nil }
        return rows[row][index]
    }
}
