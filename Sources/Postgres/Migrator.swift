/// Applies pending schema migrations in order, each in its own transaction, and
/// records them in `schema_migrations` so that a second run changes nothing.
public struct Migrator {
    public struct Outcome: Sendable, Equatable {
        /// File names applied by this run, in order.
        public var applied: [String] = []
        /// Migrations that were already recorded.
        public var alreadyApplied = 0
    }

    private let connection: PostgresConnection
    /// An arbitrary, fixed advisory-lock key, so that two migrators never interleave.
    private static let lockKey = "7423110581"

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// Applies what `migrations` holds beyond what the database recorded.
    /// `progress` hears about each file as it is applied.
    public func migrate(_ migrations: [Migration], progress: (String) -> Void = { _ in }) throws -> Outcome {
        try connection.execute("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
              version integer PRIMARY KEY,
              file_name text NOT NULL,
              checksum text NOT NULL,
              applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        try connection.query("SELECT pg_advisory_lock($1::bigint)", [Self.lockKey])
        defer { _ = try? connection.query("SELECT pg_advisory_unlock($1::bigint)", [Self.lockKey]) }

        let recorded = try connection.query("SELECT version, checksum FROM schema_migrations")
        var recordedChecksums: [Int: String] = [:]
        for row in recorded.rows {
            if let text = row[0], let version = Int(text) { recordedChecksums[version] = row[1] ?? "" }
        }

        var outcome = Outcome()
        for migration in migrations {
            if let checksum = recordedChecksums[migration.version] {
                guard checksum == migration.checksum else {
                    throw MigrationError.changedAfterApply(fileName: migration.fileName)
                }
                outcome.alreadyApplied += 1
                continue
            }
            try apply(migration)
            outcome.applied.append(migration.fileName)
            progress(migration.fileName)
        }
        return outcome
    }

    private func apply(_ migration: Migration) throws {
        do {
            try connection.execute("BEGIN")
            try connection.execute(migration.sql)
            try connection.query(
                "INSERT INTO schema_migrations (version, file_name, checksum) VALUES ($1, $2, $3)",
                [String(migration.version), migration.fileName, migration.checksum])
            try connection.execute("COMMIT")
        } catch let error as PostgresError {
            _ = try? connection.execute("ROLLBACK")
            throw MigrationError.failed(fileName: migration.fileName, error: error)
        }
    }
}
