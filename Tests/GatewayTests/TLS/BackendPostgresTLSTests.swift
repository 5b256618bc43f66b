import Foundation
import Gateway
import Invalidation
import Postgres
import Testing
import TestSupport

/// The gateway's PostgreSQL connections over TLS: the URL's `sslmode=verify-full&sslrootcert=…`
/// reaches libpq unchanged for the fill pool and for the invalidation connection (wal: a
/// replication connection; notify: a plain one), against a private PostgreSQL with `ssl = on`.
@Suite(.serialized, .timeLimit(.minutes(2))) struct BackendPostgresTLSTests {
    @Test(arguments: [InvalidationSource.wal, .notify])
    func fillsAndInvalidationsGoThroughVerifyFull(source: InvalidationSource) async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        let postgres = try PrivatePostgres(serverCertificate: (certificates.serverCertificate, certificates.serverKey))
        defer { postgres.remove() }
        let writer = try postgres.connect()
        try ListingRows.setUp(count: 3)(writer)
        let url = postgres.url + "?sslmode=verify-full&sslrootcert=\(certificates.caCertificate)"
        let harness = try await GatewayHarness(label: "pg_tls_\(source.rawValue)", postgresURL: url,
                                               configure: { $0.invalidation.source = source })
        defer { Task { await harness.stop() } }
        try await harness.waitForListener()
        let client = try harness.client()

        let filled = try client.command("GET", "listing:1").string ?? ""
        #expect(InvalidationRaceTests.viewCount(filled) == 0, "fill over TLS: \(filled)")
        try ListingRows.write(writer, id: 1)
        let invalidated = try await eventually(seconds: 10) {
            InvalidationRaceTests.viewCount(try client.command("GET", "listing:1").string ?? "") == 1
        }
        #expect(invalidated, "the \(source.rawValue) invalidation came over TLS")

        // Every connection of the gateway is encrypted, the listener's included.
        let sessions = try writer.query("""
            SELECT a.application_name, s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
            WHERE a.application_name LIKE 'quicksell-gateway%'
            """).rows.map { ($0[0] ?? "", $0[1] ?? "") }
        #expect(sessions.contains { $0.0 == "quicksell-gateway" }, "pool sessions: \(sessions)")
        #expect(sessions.contains { $0.0 == "quicksell-gateway listener" }, "listener session: \(sessions)")
        #expect(sessions.allSatisfy { $0.1 == "t" }, "a session without TLS: \(sessions)")
    }

    @Test func aWrongCAOrHostNameIsRefusedNamingTheAddressAndTheReason() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        let postgres = try PrivatePostgres(migrated: false,
                                           serverCertificate: (certificates.serverCertificate, certificates.serverKey))
        defer { postgres.remove() }
        let port = postgres.port

        for replication in [false, true] {
            let wrongCA = Self.failure(postgres.url + "?sslmode=verify-full&sslrootcert=\(certificates.wrongCACertificate)",
                                       replication: replication)
            #expect(wrongCA?.contains("127.0.0.1:\(port)") == true, "\(wrongCA ?? "connected")")
            #expect(wrongCA?.contains("certificate verify failed") == true, "\(wrongCA ?? "connected")")

            // Reached at 127.0.0.1 but expected to be wrong.example, a name the certificate lacks.
            let wrongName = Self.failure(
                "postgresql://postgres@/postgres?host=wrong.example&hostaddr=127.0.0.1&port=\(port)"
                    + "&sslmode=verify-full&sslrootcert=\(certificates.caCertificate)", replication: replication)
            #expect(wrongName?.contains("wrong.example:\(port)") == true, "\(wrongName ?? "connected")")
            #expect(wrongName?.contains("does not match host name \"wrong.example\"") == true, "\(wrongName ?? "connected")")

            #expect(Self.failure(postgres.url + "?sslmode=verify-full&sslrootcert=\(certificates.caCertificate)",
                                 replication: replication) == nil)
        }
    }

    /// nil when a connection was made, else the error's text.
    private static func failure(_ url: String, replication: Bool) -> String? {
        do {
            _ = try PostgresConnection(url: url, applicationName: "quicksell-tests", connectTimeoutSeconds: 5,
                                       replication: replication)
            return nil
        } catch {
            return "\(error)"
        }
    }
}
