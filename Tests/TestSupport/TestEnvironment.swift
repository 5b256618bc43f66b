import Foundation
import Postgres

/// Where the integration tests find the real servers that `make test` starts.
///
/// A missing variable is a failure with instructions, never a silent skip.
public enum TestEnvironment {
    public struct MissingServer: Error, CustomStringConvertible {
        public let variable: String
        public var description: String {
            "\(variable) is not set: run the tests with `make test`, which starts Redis and PostgreSQL and sets it"
        }
    }

    /// Admin URL of the test PostgreSQL server (database `postgres`).
    public static func postgresAdminURL() throws -> String {
        try required("QUICKSELL_TEST_POSTGRES_URL")
    }

    /// URL of the test Redis server.
    public static func redisURL() throws -> String {
        try required("QUICKSELL_TEST_REDIS_URL")
    }

    /// Seed URLs of the local test Redis Cluster (`scripts/cluster.sh`), comma-separated.
    public static func clusterURLs() throws -> [String] {
        try required("QUICKSELL_TEST_CLUSTER_URLS").split(separator: ",").map(String.init)
    }

    /// Whether the gateway suites run against the Redis Cluster (`QUICKSELL_TEST_REDIS_MODE=cluster`).
    public static var clusterMode: Bool {
        ProcessInfo.processInfo.environment["QUICKSELL_TEST_REDIS_MODE"] == "cluster"
    }

    /// The invalidation source test gateways use unless a test sets one
    /// (`QUICKSELL_TEST_INVALIDATION_SOURCE=notify|wal`; unset: the gateway's `auto`).
    public static var invalidationSource: String? {
        ProcessInfo.processInfo.environment["QUICKSELL_TEST_INVALIDATION_SOURCE"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The migrations folder of this checkout.
    public static func schemaDirectory() throws -> String {
        if let fromEnvironment = ProcessInfo.processInfo.environment["QUICKSELL_SCHEMA_DIR"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        // Tests/TestSupport/TestEnvironment.swift → repository root.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent("config/schema").path
    }

    static func required(_ variable: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty else {
            throw MissingServer(variable: variable)
        }
        return value
    }
}
