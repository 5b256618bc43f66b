import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Postgres
import TestSupport

/// A PostgreSQL server of the test's own (initdb into a temporary folder, run as the
/// `postgres` user on a free loopback port), which the test may stop and start again
/// without disturbing the shared test PostgreSQL. Call `remove()` at the end.
final class PrivatePostgres: @unchecked Sendable {
    let port: Int
    /// The server's folder: `data/` (its data directory), `log`, and its socket.
    let folder: String
    /// `logical` as the gateway needs; `replica` to test what it says without it.
    private let walLevel: String
    /// `-c ssl=on …` when the server was given a certificate; else empty.
    private var sslOptions = ""
    private static let binaries = "/usr/lib/postgresql/15/bin"

    /// `serverCertificate`: certificate and key files (PEM) to serve TLS with (`ssl = on`);
    /// they are copied, owned by `postgres`, the key with mode 0600 as PostgreSQL demands.
    init(walLevel: String = "logical", migrated: Bool = true, serverCertificate: (certificate: String, key: String)? = nil) throws {
        self.walLevel = walLevel
        port = try PrivateRedis.freePort()
        folder = NSTemporaryDirectory() + "quicksell-pg-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.ownerAccountName: "postgres"], ofItemAtPath: folder)
        try Self.asPostgres("initdb", ["-D", "\(folder)/data", "-U", "postgres", "--auth=trust", "--no-sync",
                                       "-E", "UTF8"])
        if let serverCertificate {
            for (source, name, mode) in [(serverCertificate.certificate, "server.crt", 0o644), (serverCertificate.key, "server.key", 0o600)] {
                let target = "\(folder)/\(name)"
                try FileManager.default.copyItem(atPath: source, toPath: target)
                try FileManager.default.setAttributes([.ownerAccountName: "postgres", .posixPermissions: mode], ofItemAtPath: target)
            }
            sslOptions = " -c ssl=on -c ssl_cert_file=\(folder)/server.crt -c ssl_key_file=\(folder)/server.key"
        }
        try start()
        guard migrated else { return }
        let migrations = try Migration.load(from: try TestEnvironment.schemaDirectory())
        _ = try Migrator(connection: try connect()).migrate(migrations)
    }

    /// A server on a data directory made elsewhere (a restored backup: `folder/data`), started
    /// with the same settings on a new port.
    init(existingDataIn folder: String, walLevel: String = "logical") throws {
        self.walLevel = walLevel
        self.folder = folder
        port = try PrivateRedis.freePort()
        try start()
    }

    var url: String { "postgresql://postgres@127.0.0.1:\(port)/postgres" }

    func connect() throws -> PostgresConnection {
        try PostgresConnection(url: url, applicationName: "quicksell-tests")
    }

    /// Starts the server and waits until it accepts connections.
    func start() throws {
        try Self.asPostgres("pg_ctl", [
            "-D", "\(folder)/data", "-l", "\(folder)/log", "-w", "-t", "20", "-o",
            "-p \(port) -k \(folder) -c listen_addresses=127.0.0.1 -c fsync=off -c wal_level=\(walLevel) "
                + "-c max_wal_senders=10 -c max_replication_slots=10" + sslOptions, "start",
        ])
    }

    /// Stops it the way an operator restarting it would (fast: sessions are cut).
    func stop() throws {
        try Self.asPostgres("pg_ctl", ["-D", "\(folder)/data", "-m", "fast", "-w", "-t", "20", "stop"])
    }

    /// Stops the server (if running) and deletes its folder.
    func remove() {
        try? Self.asPostgres("pg_ctl", ["-D", "\(folder)/data", "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Runs a PostgreSQL tool as `postgres` (posix_spawn and waitpid: Foundation's
    /// `Process` never saw `pg_ctl start` end, whose server outlives it). Output goes to
    /// a file, not a pipe, which the server would keep open.
    private static func asPostgres(_ tool: String, _ arguments: [String]) throws {
        _ = try spawn(["/usr/sbin/runuser", "-u", "postgres", "--", "\(binaries)/\(tool)"] + arguments, name: tool)
    }

    /// Runs `argv` (with `environment` added to this process's), waits at most `timeout`
    /// seconds, and returns its output; throws with the output when it fails.
    static func spawn(_ argv: [String], name: String, environment: [String: String] = [:],
                      timeout: Double = 30) throws -> String {
        let outputPath = NSTemporaryDirectory() + "quicksell-pg-\(name)-\(UUID().uuidString.prefix(8)).out"
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        let merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        var cEnvironment = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { cEnvironment.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, &cArguments, &cEnvironment)
        guard spawned == 0 else { throw TestFailure("cannot start \(name): errno \(spawned)") }
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(timeout)
        while waitpid(pid, &status, WNOHANG) == 0 {
            guard Date() < deadline else {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                throw TestFailure("\(name) did not finish within \(Int(timeout)) s")
            }
            usleep(20_000)
        }
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        // Exited normally with status 0 (the wait status keeps the exit code in bits 8-15).
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw TestFailure("\(name) failed (wait status \(status)): \(output.suffix(800))")
        }
        return output
    }
}
