import CLibPQ
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One blocking libpq connection.
///
/// Blocking calls belong on a thread of their own (the fill pool, the CLIs, tests),
/// never on an event loop. Not thread-safe: one user at a time (the pool hands a
/// connection to one thread at a time, hence `@unchecked Sendable`).
public final class PostgresConnection: @unchecked Sendable {
    let handle: OpaquePointer
    /// `host:port/database`, as tried; used in every error message. Never holds the password.
    public let address: String
    /// How long a statement may go unanswered before the connection is given up (nil: wait
    /// as long as libpq does). `statement_timeout` is enforced by the server, so a server that
    /// went silent (a partition, a dead host) never sends its error: this limit is the client's.
    let responseTimeoutMilliseconds: Int?
    /// A statement passed `responseTimeoutMilliseconds`: its answer may still come, so the
    /// connection cannot be used again.
    var abandoned = false

    /// libpq's TCP settings for a connection that must notice a dead peer: keepalive probes
    /// after 5 s idle, every 2 s, 3 unanswered ends it (about 11 s), and data unacknowledged
    /// for 10 s ends it (`TCP_USER_TIMEOUT`). Without them an idle connection to a vanished
    /// host waits forever and a busy one for the kernel's 15 minutes of retransmissions.
    public static let deadPeerSettings: [(String, String)] = [
        ("keepalives", "1"), ("keepalives_idle", "5"), ("keepalives_interval", "2"), ("keepalives_count", "3"),
        ("tcp_user_timeout", "10000"),
    ]

    /// Connects with a `postgresql://` URL or a `key=value` connection string; with
    /// `replication`, as a logical replication connection.
    public init(
        url: String,
        applicationName: String = "quicksell",
        connectTimeoutSeconds: Int = 5,
        statementTimeoutMilliseconds: Int? = nil,
        responseTimeoutMilliseconds: Int? = nil,
        detectsDeadPeer: Bool = false,
        replication: Bool = false
    ) throws {
        var keywords = ["connect_timeout", "fallback_application_name", "dbname"]
        var values = [String(connectTimeoutSeconds), applicationName, url]
        if detectsDeadPeer {
            // Before dbname: a URL's own parameters (expanded in its place) still win.
            keywords.insert(contentsOf: Self.deadPeerSettings.map(\.0), at: 0)
            values.insert(contentsOf: Self.deadPeerSettings.map(\.1), at: 0)
        }
        if replication {
            // A logical replication connection to the URL's database: it takes replication
            // commands (START_REPLICATION) and simple-protocol SQL.
            keywords.insert("replication", at: 0)
            values.insert("database", at: 0)
        }
        if let statementTimeoutMilliseconds {
            keywords.insert("options", at: 0)
            values.insert("-c statement_timeout=\(statementTimeoutMilliseconds)", at: 0)
        }
        let connection: OpaquePointer? = withCStringArray(keywords) { keywordPointers in
            withCStringArray(values) { valuePointers in
                PQconnectdbParams(keywordPointers, valuePointers, 1)
            }
        }
        guard let connection else {
            throw PostgresError.connectionFailed(address: "(\(redactedURL(url)))", message: "out of memory")
        }
        let address = PostgresConnection.describe(connection, url: url)
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = lastErrorMessage(connection)
            PQfinish(connection)
            throw PostgresError.connectionFailed(address: address, message: message)
        }
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        self.handle = connection
        self.address = address
        self.responseTimeoutMilliseconds = responseTimeoutMilliseconds
    }

    deinit {
        PQfinish(handle)
    }

    /// Runs one or more statements with the simple protocol (no parameters).
    @discardableResult
    public func execute(_ sql: String) throws -> QueryResult {
        if responseTimeoutMilliseconds != nil { return try answered { PQsendQuery(handle, sql) } }
        return try consume(PQexec(handle, sql))
    }

    /// Runs one statement with text parameters ($1, $2, …); `nil` is SQL NULL.
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = []) throws -> QueryResult {
        if responseTimeoutMilliseconds != nil {
            return try answered {
                withOptionalCStringArray(parameters) { pointers in
                    PQsendQueryParams(handle, sql, Int32(parameters.count), nil, pointers, nil, nil, 0)
                }
            }
        }
        let result = withOptionalCStringArray(parameters) { pointers in
            PQexecParams(handle, sql, Int32(parameters.count), nil, pointers, nil, nil, 0)
        }
        return try consume(result)
    }

    /// Prepares a named statement on this connection.
    public func prepare(name: String, sql: String, parameterCount: Int) throws {
        if responseTimeoutMilliseconds != nil {
            _ = try answered { PQsendPrepare(handle, name, sql, Int32(parameterCount), nil) }
            return
        }
        try consume(PQprepare(handle, name, sql, Int32(parameterCount), nil))
    }

    /// Runs a statement made by `prepare`.
    @discardableResult
    public func executePrepared(name: String, _ parameters: [String?]) throws -> QueryResult {
        if responseTimeoutMilliseconds != nil {
            return try answered {
                withOptionalCStringArray(parameters) { pointers in
                    PQsendQueryPrepared(handle, name, Int32(parameters.count), pointers, nil, nil, 0)
                }
            }
        }
        let result = withOptionalCStringArray(parameters) { pointers in
            PQexecPrepared(handle, name, Int32(parameters.count), pointers, nil, nil, 0)
        }
        return try consume(result)
    }

    /// Streams rows into `COPY … FROM STDIN` (text format). Returns the rows copied.
    @discardableResult
    public func copyIn(_ sql: String, _ produce: (inout CopyWriter) throws -> Void) throws -> Int {
        guard let start = PQexec(handle, sql) else { throw currentError() }
        let startStatus = PQresultStatus(start)
        guard startStatus == PGRES_COPY_IN else {
            defer { PQclear(start) }
            throw resultError(start)
        }
        PQclear(start)
        var writer = CopyWriter { [handle] bytes in
            let sent = bytes.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { chars in
                    PQputCopyData(handle, chars.baseAddress, Int32(chars.count))
                }
            }
            if sent != 1 { throw PostgresError.copyFailed(message: lastErrorMessage(handle)) }
        }
        do {
            try produce(&writer)
            try writer.flush()
        } catch {
            _ = PQputCopyEnd(handle, "aborted by the client")
            drainResults()
            throw error
        }
        guard PQputCopyEnd(handle, nil) == 1 else { throw currentError() }
        let result = try consume(PQgetResult(handle))
        drainResults()
        return result.affectedRows
    }

    /// libpq's last error text for this connection.
    var lastErrorMessageText: String { lastErrorMessage(handle) }

    /// Whether the connection is still usable.
    public var isHealthy: Bool { !abandoned && PQstatus(handle) == CONNECTION_OK }

    /// The server's process id for this connection (for pg_terminate_backend in tests).
    public var backendPID: Int { Int(PQbackendPID(handle)) }

    // MARK: - Results

    @discardableResult
    func consume(_ result: OpaquePointer?) throws -> QueryResult {
        guard let result else { throw currentError() }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return Self.read(result)
        default:
            throw resultError(result)
        }
    }

    private static func read(_ result: OpaquePointer) -> QueryResult {
        let columnCount = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        var columns: [String] = []
        columns.reserveCapacity(columnCount)
        for column in 0..<columnCount {
            columns.append(PQfname(result, Int32(column)).map { String(cString: $0) } ?? "?column?")
        }
        var rows: [[String?]] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<rowCount {
            var values: [String?] = []
            values.reserveCapacity(columnCount)
            for column in 0..<columnCount {
                if PQgetisnull(result, Int32(row), Int32(column)) == 1 {
                    values.append(nil)
                } else {
                    values.append(PQgetvalue(result, Int32(row), Int32(column)).map { String(cString: $0) })
                }
            }
            rows.append(values)
        }
        let affected = PQcmdTuples(result).flatMap { Int(String(cString: $0)) } ?? 0
        return QueryResult(columns: columns, rows: rows, affectedRows: affected)
    }

    func resultError(_ result: OpaquePointer) -> PostgresError {
        let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
        let primary = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
        let message = primary ?? PQresultErrorMessage(result).map { String(cString: $0) } ?? "unknown error"
        if PQstatus(handle) != CONNECTION_OK {
            return .connectionLost(address: address, message: message)
        }
        return .queryFailed(sqlState: state, message: trimmed(message))
    }

    func currentError() -> PostgresError {
        let message = lastErrorMessage(handle)
        if PQstatus(handle) != CONNECTION_OK {
            return .connectionLost(address: address, message: message)
        }
        return .queryFailed(sqlState: nil, message: message)
    }

    func drainResults() {
        while let result = PQgetResult(handle) { PQclear(result) }
    }

    private static func describe(_ connection: OpaquePointer, url: String) -> String {
        let host = PQhost(connection).map { String(cString: $0) } ?? "?"
        let port = PQport(connection).map { String(cString: $0) } ?? "?"
        let database = PQdb(connection).map { String(cString: $0) } ?? "?"
        let hostPart = host.hasPrefix("/") ? "socket \(host)" : host
        return "\(hostPart):\(port)/\(database)"
    }
}

/// Removes a password from a connection URL before it is shown to anyone.
public func redactedURL(_ url: String) -> String {
    let characters = Array(url)
    guard let schemeEnd = (0..<max(0, characters.count - 2)).first(where: {
        characters[$0] == ":" && characters[$0 + 1] == "/" && characters[$0 + 2] == "/"
    }) else { return url }
    let userStart = schemeEnd + 3
    guard let at = characters[userStart...].firstIndex(of: "@"),
          let colon = characters[userStart..<at].firstIndex(of: ":") else { return url }
    return String(characters[..<colon]) + ":***" + String(characters[at...])
}

private func lastErrorMessage(_ connection: OpaquePointer) -> String {
    trimmed(PQerrorMessage(connection).map { String(cString: $0) } ?? "unknown error")
}

private func trimmed(_ text: String) -> String {
    var text = Substring(text)
    while let last = text.last, last.isWhitespace { text = text.dropLast() }
    return String(text)
}

/// A NULL-terminated array of C strings, alive for the duration of `body`.
private func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    withOptionalCStringArray(strings.map { Optional($0) } + [nil], body)
}

/// C strings for `strings` (nil stays NULL), alive for the duration of `body`.
private func withOptionalCStringArray<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    let owned: [UnsafeMutablePointer<CChar>?] = strings.map { $0.flatMap { strdup($0) } }
    defer { owned.forEach { free($0) } }
    let pointers: [UnsafePointer<CChar>?] = owned.map { $0.map { UnsafePointer($0) } }
    return pointers.withUnsafeBufferPointer { buffer in body(buffer.baseAddress) }
}
