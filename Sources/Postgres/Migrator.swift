/// Applies pending schema migrations in order, each in its own transaction, and
/// records them in `schema_migrations` so that a second run changes nothing. A database that
/// applied every migration a later file squashes is adopted: its records become that file's.
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
            switch try Self.state(of: migration, recorded: recordedChecksums) {
            case .applied:
                outcome.alreadyApplied += 1
            case let .squashedApplied(squashed):
                try adopt(migration, replacing: squashed)
                outcome.alreadyApplied += 1
            case .pending:
                try apply(migration)
                outcome.applied.append(migration.fileName)
                progress(migration.fileName)
            }
        }
        return outcome
    }

    /// What `migrate` does with one migration file.
    enum State: Equatable {
        case applied
        /// Every migration it squashes was applied: the schema is already this file's.
        case squashedApplied([SquashedMigration])
        case pending
    }

    /// Where `migration` stands in a database that recorded `recorded` (version: checksum).
    static func state(of migration: Migration, recorded: [Int: String]) throws -> State {
        let squashed = try migration.squashed()
        let appliedSquashed = squashed.filter { recorded[$0.version] != nil }
        if let checksum = recorded[migration.version], checksum == migration.checksum {
            return .applied
        }
        if appliedSquashed.isEmpty {
            guard recorded[migration.version] == nil else {
                throw MigrationError.changedAfterApply(fileName: migration.fileName)
            }
            return .pending
        }
        if let changed = appliedSquashed.first(where: { recorded[$0.version] != $0.checksum }) {
            throw MigrationError.changedAfterApply(fileName: changed.fileName)
        }
        guard appliedSquashed.count == squashed.count else {
            throw MigrationError.partlySquashed(
                fileName: migration.fileName, applied: appliedSquashed.map(\.fileName),
                missing: squashed.filter { recorded[$0.version] == nil }.map(\.fileName))
        }
        return .squashedApplied(squashed)
    }

    /// Replaces the records of the squashed migrations with the record of the file that squashed them.
    private func adopt(_ migration: Migration, replacing squashed: [SquashedMigration]) throws {
        try transaction(naming: migration.fileName) {
            for old in squashed {
                try connection.query("DELETE FROM schema_migrations WHERE version = $1", [String(old.version)])
            }
            try record(migration)
        }
    }

    private func apply(_ migration: Migration) throws {
        try transaction(naming: migration.fileName) {
            try connection.execute(migration.sql)
            try record(migration)
        }
    }

    private func record(_ migration: Migration) throws {
        try connection.query(
            "INSERT INTO schema_migrations (version, file_name, checksum) VALUES ($1, $2, $3)",
            [String(migration.version), migration.fileName, migration.checksum])
    }

    /// Runs `body` in one transaction; a failure rolls it back and names `fileName`.
    private func transaction(naming fileName: String, _ body: () throws -> Void) throws {
        do {
            try connection.execute("BEGIN")
            try body()
            try connection.execute("COMMIT")
        } catch let error as PostgresError {
            _ = try? connection.execute("ROLLBACK")
            throw MigrationError.failed(fileName: fileName, error: error)
        }
    }
}
