import Foundation
import Gateway
import Postgres
import Synchronization
import Testing
import TestSupport

/// The doorbell of migration 007 against a real PostgreSQL (and a real gateway): writers
/// notify only while a registered listener sleeps, a listener that goes back to sleep
/// waits for the writers that did not, and their keys are invalidated all the same.
@Suite struct DoorbellTests {
    /// A connection that LISTENs like a listener but never registers: it sees exactly the
    /// notifications that writers send.
    private final class Eavesdropper {
        let connection: PostgresConnection
        init(_ database: TestDatabase) throws {
            connection = try database.connect()
            try connection.execute("LISTEN quicksell_invalidation")
        }

        /// Notifications that arrived within `seconds`.
        func received(within seconds: Double) throws -> [PostgresNotification] {
            let deadline = Date().addingTimeInterval(seconds)
            var received: [PostgresNotification] = []
            repeat {
                var descriptor = pollfd(fd: connection.socketDescriptor, events: Int16(POLLIN), revents: 0)
                _ = poll(&descriptor, 1, 10)
                try connection.consumeInput()
                received += connection.drainNotifications()
            } while Date() < deadline
            return received
        }
    }

    @Test func writersRingOnlyWhileARegisteredListenerSleeps() throws {
        let database = try TestDatabase(label: "doorbell_sql")
        defer { database.drop() }
        let writer = try database.connect()
        try Fixtures.load(writer)
        let eavesdropper = try Eavesdropper(database)
        // Nobody registered: nobody to wake, the outbox row is still written.
        try writer.execute("UPDATE users SET bio = 'a' WHERE id = 1")
        #expect(try eavesdropper.received(within: 0.2).isEmpty)
        #expect(try writer.execute("SELECT count(*) FROM cache_invalidations").scalar != "0")

        // A registered listener sleeps (holds its lock): writers ring.
        let listener = try database.connect()
        try listener.execute("SELECT quicksell_listener_register()")
        try writer.execute("UPDATE users SET bio = 'b' WHERE id = 1")
        let rung = try eavesdropper.received(within: 0.2)
        #expect(rung.count == 1)
        #expect(rung.first?.payload.hasSuffix("|user:1,user_badges:1,user_stats:1") == true)

        // Awake (lock released): writers only write the outbox and hold a shared lock until
        // they end, so the listener's lock waits for them.
        try listener.execute("SELECT pg_advisory_unlock(quicksell_doorbell_space(), pg_backend_pid())")
        try listener.execute("SET lock_timeout = '100ms'")
        try writer.execute("BEGIN")
        try writer.execute("UPDATE users SET bio = 'c' WHERE id = 1")
        #expect(throws: PostgresError.self) {
            try listener.execute("SELECT pg_advisory_lock(quicksell_doorbell_space(), pg_backend_pid())")
        }
        try writer.execute("COMMIT")
        #expect(try eavesdropper.received(within: 0.2).isEmpty)
        try listener.execute("SELECT pg_advisory_lock(quicksell_doorbell_space(), pg_backend_pid())")

        // While the listener's lock request is queued behind a silent writer, new writers ring.
        try listener.execute("SELECT pg_advisory_unlock(quicksell_doorbell_space(), pg_backend_pid())")
        try writer.execute("BEGIN")
        try writer.execute("UPDATE users SET bio = 'd' WHERE id = 1")
        try listener.execute("SET lock_timeout = '5s'")
        let granted = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            _ = try? listener.execute("SELECT pg_advisory_lock(quicksell_doorbell_space(), pg_backend_pid())")
            granted.signal()
        }
        let other = try database.connect()
        let waiting = try eventuallySync(seconds: 2) {
            try other.execute("""
                SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND mode = 'ExclusiveLock'
                """).scalar == "1"
        }
        #expect(waiting, "the listener's lock request never queued")
        try other.execute("UPDATE users SET bio = 'e' WHERE id = 2")
        try writer.execute("COMMIT")
        let duringQueue = try eavesdropper.received(within: 0.3)
        #expect(duringQueue.count == 1)
        #expect(duringQueue.first?.payload.hasSuffix("|user:2,user_badges:2,user_stats:2") == true)
        #expect(granted.wait(timeout: .now() + 5) == .success, "the listener's lock was not granted after the commit")

        // A listener that ends is forgotten by the next registration.
        let pid = listener.backendPID
        try other.execute("SELECT pg_terminate_backend(\(pid))")
        let second = try database.connect()
        try second.execute("SELECT quicksell_listener_register()")
        let registered = try second.execute("SELECT string_agg(pid::text, ',') FROM cache_invalidation_listeners").scalar
        #expect(registered == String(second.backendPID))
    }

    @Test func writesWhoseNotifyWasSkippedAreStillInvalidated() async throws {
        let gate = ListenerGate()
        let harness = try await GatewayHarness(
            label: "doorbell_skip", invalidationHooks: InvalidationHooks(afterWake: { gate.pauseIfArmed() }),
            setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        try await harness.waitForListener()
        let eavesdropper = try Eavesdropper(harness.database)
        let client = try harness.client()
        let writer = try harness.database.connect()
        _ = try client.command("GET", "user:1")
        _ = try client.command("GET", "user:2")
        _ = try client.command("GET", "user:5")
        let registered = try writer.execute("SELECT count(*) FROM cache_invalidation_listeners").scalar
        #expect(registered == "1")

        // The listener sleeps: a lone write rings and its keys are applied; the listener
        // stays asleep (the hook that holds it after a wake-up does not run).
        gate.arm()
        try writer.execute("UPDATE users SET bio = 'rang' WHERE id = 2")
        #expect(try eavesdropper.received(within: 0.2).count == 1)
        #expect(try await eventually(seconds: 1) { try client.command("GET", "user:2").string?.contains("rang") == true })
        #expect(!gate.waitUntilPaused(seconds: 0.3), "a lone notification woke the listener")

        // A write whose keys do not fit in the payload rings too, and the listener wakes to
        // read them from the outbox; the hook holds it awake and busy.
        try writer.execute("""
            INSERT INTO users (username, email, password_hash)
            SELECT 'many' || g, 'many' || g || '@example.com', 'x' FROM generate_series(1, 300) g
            """)
        #expect(try eavesdropper.received(within: 0.2).count == 1)
        #expect(gate.waitUntilPaused(seconds: 3), "the listener did not wake up")

        // It is awake: these writes skip NOTIFY.
        try writer.execute("UPDATE users SET bio = 'silent' WHERE id = 1")
        try writer.execute("UPDATE users SET bio = 'silent too' WHERE id = 5")
        #expect(try eavesdropper.received(within: 0.2).isEmpty, "a write rang although the listener was awake")
        gate.release()

        // Yet the listener reads them from the outbox before going back to sleep.
        #expect(try await eventually(seconds: 1) { try client.command("GET", "user:1").string?.contains("silent") == true })
        #expect(try client.command("GET", "user:2").string?.contains("rang") == true)
        #expect(try client.command("GET", "user:5").string?.contains("silent too") == true)

        // And it sleeps again: the next write rings and is applied.
        _ = try client.command("GET", "user:6")
        #expect(try await eventually(seconds: 1) {
            try writer.execute("""
                SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND mode = 'ExclusiveLock'
                """).scalar == "1"
        })
        try writer.execute("UPDATE users SET bio = 'rang again' WHERE id = 6")
        #expect(try eavesdropper.received(within: 0.2).count == 1)
        #expect(try await eventually(seconds: 1) { try client.command("GET", "user:6").string?.contains("rang again") == true })
    }
}

/// Holds the listener right after it woke up, once, while a test writes.
final class ListenerGate: Sendable {
    private let state = Mutex<(armed: Bool, paused: Bool)>((false, false))
    private let released = DispatchSemaphore(value: 0)

    func arm() { state.withLock { $0.armed = true } }

    /// Called by the listener: blocks (at most 5 s) when armed.
    func pauseIfArmed() {
        let armed = state.withLock { state -> Bool in
            guard state.armed else { return false }
            state.armed = false
            state.paused = true
            return true
        }
        guard armed else { return }
        _ = released.wait(timeout: .now() + 5)
        state.withLock { $0.paused = false }
    }

    func waitUntilPaused(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if state.withLock({ $0.paused }) { return true }
            usleep(5_000)
        }
        return false
    }

    func release() { released.signal() }
}

/// Polls `condition` every 10 ms (blocking) until it holds or `seconds` pass.
func eventuallySync(seconds: Double, _ condition: () throws -> Bool) throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    repeat {
        if try condition() { return true }
        usleep(10_000)
    } while Date() < deadline
    return try condition()
}
