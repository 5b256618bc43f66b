import Invalidation
import Logging
import NIOCore
import Postgres
import RedisBackend
import RESP
import ServiceLifecycle
import Synchronization

/// Probes the backends in the background (Redis every 250 ms, PostgreSQL a second after
/// its previous probe answered, the replication slot's retained WAL every few seconds) so that `/readyz` and `INFO gateway` answer at once from the
/// latest result, and a stopped Redis shows as down within a second.
///
/// A `Service`: probes from its start until graceful shutdown. The probes are tasks
/// scheduled on one event loop; nothing here waits for an answer.
public final class HealthMonitor: Service, Sendable, CustomStringConvertible {
    public struct Health: Sendable, Equatable {
        public var redisUp = false
        public var postgresUp = false
        public var listenerUp = false
        /// What is wrong, by backend; empty when all is well.
        public var problems: [String: String] = [:]

        public var ready: Bool { redisUp && postgresUp && listenerUp }
    }

    let redis: RedisClient
    private let pool: PostgresPool
    private let invalidation: InvalidationService?
    let eventLoop: any EventLoop
    /// Told Redis's `run_id` after each successful probe (restart detection).
    let onRedisRunID: (@Sendable (String) -> Void)?
    private let state = Mutex(Health())
    private let redisProbes = Mutex<RepeatedTask?>(nil)
    /// A PostgreSQL probe holds a pool thread until PostgreSQL answers (or times out): the next
    /// one is scheduled only then, so that probes never pile up in the pool's queue.
    private let postgresProbes = Mutex<(stopped: Bool, next: Scheduled<Void>?)>((false, nil))
    let probeTimeout: TimeAmount = .milliseconds(500)
    /// Cluster mode: whether each primary answered the last probe.
    let clusterNodesUp = Mutex<[ClusterNodeAddress: Bool]>([:])
    /// Set once the first probes are on their way.
    let started = StartupEvent<Void>()
    private let logger: Logger

    public var description: String { "HealthMonitor" }

    init(redis: RedisClient, pool: PostgresPool, invalidation: InvalidationService?, eventLoop: any EventLoop,
         onRedisRunID: (@Sendable (String) -> Void)? = nil, logger: Logger) {
        self.onRedisRunID = onRedisRunID
        self.logger = logger
        self.redis = redis
        self.pool = pool
        self.invalidation = invalidation
        self.eventLoop = eventLoop
    }

    /// `INFO gateway` lines: backends, their traffic and the listener.
    var infoLines: [(String, String)] {
        let health = self.health
        return [
            ("ready", health.ready ? "1" : "0"),
            ("redis_status", health.redisUp ? "up" : "down"),
            ("redis_address", redis.cluster.map { "cluster:" + $0.seeds.map(\.description).joined(separator: ",") }
                ?? redis.configuration.address),
            ("redis_round_trips", String(redis.counters.commandsSent)),
            ("redis_errors", String(redis.counters.commandsFailed)),
        ] + clusterInfoLines + [
            ("postgres_status", health.postgresUp ? "up" : "down"),
            ("postgres_pool_size", String(pool.configuration.size)),
            ("postgres_queries", String(pool.queryCount)),
            ("postgres_errors", String(pool.failureCount)),
            ("listener_status", invalidation == nil ? "off" : (health.listenerUp ? "up" : "down")),
        ]
    }

    public var health: Health {
        var health = state.withLock { $0 }
        if let invalidation {
            let status = invalidation.status
            health.listenerUp = status.connected && status.caughtUp
            if !status.connected {
                health.problems["listener"] = status.lastError ?? "not connected"
            } else if !status.caughtUp {
                health.problems["listener"] = invalidation.catchingUpProblem
            }
        } else {
            health.listenerUp = true
        }
        return health
    }

    /// Probes until graceful shutdown (or cancellation), then stops probing.
    public func run() async throws {
        start()
        started.succeed(())
        try? await gracefulShutdown()
        await stop()
        logger.debug("health probes stopped")
    }

    /// Runs the first probes and starts the periodic ones.
    private func start() {
        probeRedis()
        probePostgres()
        let redisTask = eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(250), delay: .milliseconds(250)) { [self] _ in
            probeRedis()
        }
        redisProbes.withLock { $0 = redisTask }
    }

    /// Returns once no periodic probe will start again.
    private func stop() async {
        postgresProbes.withLock { probes in
            probes.stopped = true
            probes.next?.cancel()
            probes.next = nil
        }
        guard let redisTask = redisProbes.withLock({ $0.take() }) else { return }
        let cancelled = eventLoop.makePromise(of: Void.self)
        redisTask.cancel(promise: cancelled)
        try? await cancelled.futureResult.get()
    }

    private func probeRedis() {
        if redis.isCluster { return probeClusterNodes() }
        let deadline = eventLoop.scheduleTask(in: probeTimeout) { [self] in
            record(redis: false, problem: "no answer to INFO server within \(probeTimeout.nanoseconds / 1_000_000) ms")
        }
        redis.send(["INFO", "server"], on: eventLoop).whenComplete { [self] result in
            deadline.cancel()
            switch result {
            case .success(.bulkString(let text)):
                record(redis: true, problem: nil)
                if let runID = RedisRestartGuard.runID(inInfo: String(buffer: text)) { onRedisRunID?(runID) }
            case .success(let other): record(redis: false, problem: "unexpected reply to INFO server: \(other)")
            case .failure(let error): record(redis: false, problem: "\(error)")
            }
        }
    }

    /// Also reads the WAL the replication slot holds back, every few seconds (wal source only):
    /// on this pooled connection, so the listener's thread keeps streaming.
    private func probePostgres() {
        let retention = invalidation?.slotRetention
        pool.run(on: eventLoop) { connection in
            try connection.connection.execute("SELECT 1")
            retention?.readIfDue(connection.connection)
        }.whenComplete { [self] result in
            switch result {
            case .success: record(postgres: true, problem: nil)
            case .failure(let error): record(postgres: false, problem: "\(error)")
            }
            postgresProbes.withLock { probes in
                guard !probes.stopped else { return }
                probes.next = eventLoop.scheduleTask(in: .seconds(1)) { [self] in probePostgres() }
            }
        }
    }

    func record(redis up: Bool, problem: String?) {
        state.withLock {
            $0.redisUp = up
            $0.problems["redis"] = problem
        }
    }

    private func record(postgres up: Bool, problem: String?) {
        state.withLock {
            $0.postgresUp = up
            $0.problems["postgres"] = problem
        }
    }
}
