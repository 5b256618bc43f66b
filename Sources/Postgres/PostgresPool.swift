import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Connections for fills: blocking libpq calls run on a thread pool of their own, never
/// on an event loop, and callers get an `EventLoopFuture` on their own loop.
///
/// Bounded: at most `size` queries run at once and at most `maxQueued` wait; beyond
/// that a request fails at once with `.overloaded` instead of piling up.
public final class PostgresPool: Sendable {
    public struct Configuration: Sendable {
        public var url: String
        public var size: Int
        public var connectTimeoutSeconds: Int
        public var statementTimeoutMilliseconds: Int
        public var maxQueued: Int
        /// How long a statement may go unanswered before its connection is given up: the
        /// server's `statement_timeout` plus a second for its error to arrive. Only a silent
        /// server or network passes it; it then costs one request, not a pool thread held
        /// until TCP gives up.
        public var responseTimeoutMilliseconds: Int { statementTimeoutMilliseconds + 1_000 }

        public init(
            url: String, size: Int = 4, connectTimeoutSeconds: Int = 2,
            statementTimeoutMilliseconds: Int = 2_000, maxQueued: Int = 10_000
        ) {
            self.url = url
            self.size = size
            self.connectTimeoutSeconds = connectTimeoutSeconds
            self.statementTimeoutMilliseconds = statementTimeoutMilliseconds
            self.maxQueued = maxQueued
        }
    }

    public let configuration: Configuration
    private let threads: NIOThreadPool
    private let idle = Mutex<[PooledConnection]>([])
    private let waiting = Atomic<Int>(0)
    private let queries = Atomic<Int>(0)
    private let failures = Atomic<Int>(0)
    private let logger: Logger

    public init(configuration: Configuration, logger: Logger = Logger(label: "quicksell.postgres")) {
        self.configuration = configuration
        self.logger = logger
        threads = NIOThreadPool(numberOfThreads: max(1, configuration.size))
        threads.start()
    }

    /// Statements run so far (each `run` counts the statements its work sends).
    public var queryCount: Int { queries.load(ordering: .relaxed) }
    /// Runs that failed.
    public var failureCount: Int { failures.load(ordering: .relaxed) }

    /// Runs `work` with a pooled connection on a pool thread.
    public func run<Result: Sendable>(
        on eventLoop: any EventLoop,
        _ work: @escaping @Sendable (PooledConnection) throws -> Result
    ) -> EventLoopFuture<Result> {
        let queued = waiting.add(1, ordering: .relaxed).newValue
        guard queued <= configuration.maxQueued + configuration.size else {
            waiting.subtract(1, ordering: .relaxed)
            failures.add(1, ordering: .relaxed)
            return eventLoop.makeFailedFuture(PostgresPoolError.overloaded(queued: queued))
        }
        return threads.runIfActive(eventLoop: eventLoop) { [self] in
            defer { waiting.subtract(1, ordering: .relaxed) }
            let connection = try checkout()
            do {
                let result = try work(connection)
                queries.add(connection.takeStatementCount(), ordering: .relaxed)
                checkin(connection)
                return result
            } catch {
                queries.add(connection.takeStatementCount(), ordering: .relaxed)
                failures.add(1, ordering: .relaxed)
                if connection.connection.isHealthy { checkin(connection) }
                throw error
            }
        }
    }

    /// Opens one connection now: a start-up check that names the address on failure.
    public func checkConnectivity(on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        run(on: eventLoop) { try $0.connection.execute("SELECT 1") }.map { _ in }
    }

    public func shutdown() async {
        try? await threads.shutdownGracefully()
        idle.withLock { $0.removeAll() }
    }

    private func checkout() throws -> PooledConnection {
        if let pooled = idle.withLock({ $0.popLast() }) {
            if pooled.connection.isHealthy { return pooled }
        }
        let connection = try PostgresConnection(
            url: configuration.url,
            applicationName: "quicksell-gateway",
            connectTimeoutSeconds: configuration.connectTimeoutSeconds,
            statementTimeoutMilliseconds: configuration.statementTimeoutMilliseconds,
            responseTimeoutMilliseconds: configuration.responseTimeoutMilliseconds,
            detectsDeadPeer: true)
        try connection.execute("SET TimeZone = 'UTC'")
        return PooledConnection(connection)
    }

    private func checkin(_ connection: PooledConnection) {
        idle.withLock { $0.append(connection) }
    }
}

/// A pool connection with the named statements it has already prepared.
public final class PooledConnection: @unchecked Sendable {
    public let connection: PostgresConnection
    private var prepared: Set<String> = []
    private var statements = 0

    init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// Runs a named statement, preparing it on first use on this connection.
    public func execute(prepared name: String, sql: String, _ parameters: [String?]) throws -> QueryResult {
        if !prepared.contains(name) {
            try connection.prepare(name: name, sql: sql, parameterCount: parameters.count)
            prepared.insert(name)
        }
        statements += 1
        return try connection.executePrepared(name: name, parameters)
    }

    func takeStatementCount() -> Int {
        defer { statements = 0 }
        return statements
    }
}

/// Why the pool refused work.
public enum PostgresPoolError: Error, CustomStringConvertible, Sendable {
    case overloaded(queued: Int)

    public var description: String {
        switch self {
        case .overloaded(let queued): return "PostgreSQL overloaded (\(queued) requests already waiting)"
        }
    }
}
