import CacheModel

/// The names of the configuration keys, shared by the loader, `--check-config` and docs.
///
/// The valid keys themselves are not listed here: they are the keys `ConfigurationValues` reads
/// (see `ConfigurationLoader.knownKeys`), so a key added there is valid in the file and the
/// environment at once.
enum ConfigurationKeys {
    /// TTL keys: `cache.ttl_seconds.<key>` sets the TTL of these families.
    static let ttlFamilies: [(key: String, families: [KeyFamily])] = [
        ("user", [.user]),
        ("listing", [.listing]),
        ("marketplace_listings", [.marketplaceListings]),
        ("user_stats", [.userStats]),
        ("user_badges", [.userBadges]),
        ("leaderboard", [.leaderboardWeekly, .leaderboardMonthly]),
    ]

    /// The environment variable that overrides `key` (`server.port` → `QUICKSELL_SERVER_PORT`).
    static func environmentName(_ key: String) -> String {
        "QUICKSELL_" + String(key.uppercased().map { $0 == "." || $0 == "-" ? "_" : $0 })
    }

    /// `QUICKSELL_*` variables that are not configuration, which the gateway ignores instead of
    /// refusing as typos. `make run`, `make test` and the bench start the gateway in an
    /// environment that the scripts (`scripts/env.sh`, `run-tests.sh`, the Makefile) fill with
    /// these, and the operator CLI and the load tool read some of them. A test checks that every
    /// `QUICKSELL_*` name in the scripts and the tools is either a configuration key or listed here.
    static let otherVariables: [String: String] = [
        "QUICKSELL_ROOT": "scripts: the checkout",
        "QUICKSELL_DATA_DIR": "scripts: where Redis and PostgreSQL keep their data",
        "QUICKSELL_REDIS_PORT": "scripts: the local Redis's port",
        "QUICKSELL_PG_PORT": "scripts: the local PostgreSQL's port",
        "QUICKSELL_PG_DATABASE": "scripts: the demo database",
        "QUICKSELL_PG_WAL_LEVEL": "scripts: the local PostgreSQL's wal_level",
        "QUICKSELL_PG_BIN": "scripts: PostgreSQL's programs",
        "QUICKSELL_POSTGRES_ADMIN_URL": "scripts: the local PostgreSQL's postgres database",
        "QUICKSELL_CLUSTER_BASE_PORT": "scripts: the local Redis Cluster's first port",
        "QUICKSELL_CLUSTER_NODE_TIMEOUT": "scripts: the local Redis Cluster's node timeout",
        "QUICKSELL_CLUSTER_DIR": "scripts: the local Redis Cluster's data",
        "QUICKSELL_CLUSTER_URLS": "scripts: the local Redis Cluster's primaries",
        "QUICKSELL_SCHEMA_DIR": "quicksell-cache migrate: the migrations",
        "QUICKSELL_GATEWAY_URL": "quicksell-cache: the gateway to talk to",
        "QUICKSELL_GATEWAY_HOST": "quicksell-cache: the gateway to talk to",
        "QUICKSELL_GATEWAY_PORT": "quicksell-cache and scripts: the gateway's port",
        "QUICKSELL_GATEWAY_USER": "quicksell-cache: the user to authenticate as",
        "QUICKSELL_GATEWAY_PASSWORD": "quicksell-cache: the password to authenticate with",
        "QUICKSELL_FUZZ_INPUTS": "make fuzz",
        "QUICKSELL_FUZZ_SECONDS": "make fuzz",
        "QUICKSELL_FUZZ_SEED": "make fuzz",
        "QUICKSELL_ARCHIVE_DIR": "quicksell-cache retention run: where exports and photo URL lists go",
    ]

    /// Prefixes of further non-configuration variables: the test suite's settings and
    /// `scripts/backup.sh`'s (its repositories, stanza and server).
    static let otherVariablePrefixes = ["QUICKSELL_TEST_", "QUICKSELL_BACKUP_"]

    /// Whether `name` is one of the non-configuration variables above.
    static func isOtherVariable(_ name: String) -> Bool {
        otherVariables[name] != nil || otherVariablePrefixes.contains { name.hasPrefix($0) }
    }
}
