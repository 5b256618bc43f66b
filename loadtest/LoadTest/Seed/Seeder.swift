import Postgres

/// Fills the fifteen QuickSell tables with deterministic sample data through `COPY`.
///
/// The whole run is one transaction: a failure leaves the database as it was, and readers
/// never see half a data set. Ids are explicit so foreign keys are known in advance; the
/// sequences are moved past them at the end so that ordinary INSERTs keep working.
public struct Seeder {
    private let connection: PostgresConnection
    private let options: SeedOptions

    public init(connection: PostgresConnection, options: SeedOptions) {
        self.connection = connection
        self.options = options
    }

    public func run(progress: (SeedProgress) -> Void = { _ in }) throws -> SeedOutcome {
        guard (1...SeedPlan.maximumUsers).contains(options.users) else {
            throw SeedError.invalidUserCount(options.users)
        }
        let clock = ContinuousClock()
        let start = clock.now
        func seconds(since instant: ContinuousClock.Instant) -> Double {
            let duration = clock.now - instant
            return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }

        try checkSchema()
        let plan = SeedPlan(options: options)
        progress(.planned(listings: plan.listingCount, sales: plan.saleCount, seconds: seconds(since: start)))

        try connection.execute("BEGIN")
        do {
            try connection.execute("SET LOCAL synchronous_commit = off")
            let tables = SeedTables.names.joined(separator: ", ")
            let lockMode = options.existingData == .truncate ? "ACCESS EXCLUSIVE" : "EXCLUSIVE"
            try connection.execute("LOCK TABLE \(tables) IN \(lockMode) MODE")

            let populated = try populatedTables()
            if !populated.isEmpty {
                switch options.existingData {
                case .truncate:
                    try connection.execute("TRUNCATE \(tables) RESTART IDENTITY CASCADE")
                    progress(.truncated)
                case .skipIfUsersExist where populated.contains("users"):
                    let users = try connection.query("SELECT count(*) FROM users").scalarInt()
                    try connection.execute("ROLLBACK")
                    return .skipped(existingUsers: users)
                default:
                    throw SeedError.databaseNotEmpty(tables: populated)
                }
            }

            var report = SeedReport(referenceTime: options.referenceTime)
            for writer in SeedTables.writers {
                let tableStart = clock.now
                let rows = try connection.copyIn(writer.copyStatement) { copy in
                    try writer.write(plan, into: &copy)
                }
                let table = SeedReport.Table(name: writer.table, rows: rows, seconds: seconds(since: tableStart))
                report.tables.append(table)
                progress(.tableDone(table, elapsedSeconds: seconds(since: start)))
            }
            try advanceSequences()
            try connection.execute("COMMIT")
            // Fresh planner statistics: without them the first queries on COPY-loaded tables
            // (the gateway's fills, leaderboards) pick plans hundreds of times slower.
            try connection.execute("ANALYZE \(tables)")
            report.totalSeconds = seconds(since: start)
            return .seeded(report)
        } catch {
            _ = try? connection.execute("ROLLBACK")
            throw error
        }
    }

    /// Every table must exist before anything is locked or written.
    private func checkSchema() throws {
        for table in SeedTables.names {
            let found = try connection.query("SELECT to_regclass($1) IS NOT NULL", [table]).scalar
            guard found == "t" else { throw SeedError.schemaMissing(table: table) }
        }
    }

    /// The tables (of the fifteen) that hold at least one row.
    private func populatedTables() throws -> [String] {
        let probes = SeedTables.names.map { "SELECT '\($0)' WHERE EXISTS (SELECT 1 FROM \($0))" }
        let result = try connection.query(probes.joined(separator: " UNION ALL "))
        let found = Set(result.rows.compactMap { $0.first ?? nil })
        return SeedTables.names.filter { found.contains($0) }
    }

    /// Moves every table's id sequence past its largest id.
    private func advanceSequences() throws {
        let statements = SeedTables.names.map {
            "SELECT setval(pg_get_serial_sequence('\($0)', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM \($0)"
        }
        try connection.execute(statements.joined(separator: ";\n"))
    }
}
