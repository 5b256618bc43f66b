/// What a seed run did: rows and time per table, for the CLI's summary and for tests.
public struct SeedReport: Sendable {
    public struct Table: Sendable {
        public let name: String
        public let rows: Int
        public let seconds: Double
    }

    public internal(set) var tables: [Table] = []
    public internal(set) var totalSeconds: Double = 0
    /// The reference time the data was derived from (epoch seconds, UTC).
    public let referenceTime: Int64

    public var totalRows: Int { tables.reduce(0) { $0 + $1.rows } }

    /// Rows written to `table`, or nil if it was not written.
    public func rows(of table: String) -> Int? {
        tables.first { $0.name == table }?.rows
    }
}

/// How a seed run ended.
public enum SeedOutcome: Sendable {
    case seeded(SeedReport)
    /// `--if-empty` and `users` already had this many rows: nothing was written.
    case skipped(existingUsers: Int)
}

/// Progress events, reported while a run goes on (the CLI prints them on stderr).
public enum SeedProgress: Sendable {
    case planned(listings: Int, sales: Int, seconds: Double)
    case truncated
    case tableDone(SeedReport.Table, elapsedSeconds: Double)
}
