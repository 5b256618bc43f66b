@testable import Gateway
import Logging
import ServiceLifecycle
import Synchronization
import Testing

/// The pieces that keep the gateway's start-up order inside one `ServiceGroup`, without
/// sockets or backends.
@Suite struct StartupOrderTests {
    @Test func aStartupEventHandsItsValueToEveryWaiter() async throws {
        let event = StartupEvent<Int>()
        let early = Task { try await event.value() }
        event.succeed(7)
        event.fail(TestFailure("too late"))
        #expect(try await early.value == 7)
        #expect(try await event.value() == 7)
    }

    @Test func aFailedStartupEventThrowsItsError() async throws {
        let event = StartupEvent<Int>()
        event.fail(TestFailure("cannot listen"))
        event.succeed(1)
        await #expect(throws: TestFailure.self) { try await event.value() }
    }

    @Test func aCancelledWaiterStopsWaiting() async throws {
        let event = StartupEvent<Void>()
        let waiter = Task { try await event.value() }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
    }

    @Test func aServiceStartsOnlyAfterItsPrerequisite() async throws {
        let prerequisite = StartupEvent<Void>()
        let log = EntryLog()
        let first = RecordingService(name: "first", log: log)
        let second = RecordingService(name: "second", log: log)
        let services = ServiceGroup(configuration: .init(
            services: [StartAfter(base: second) { try await prerequisite.value() }, first], logger: quietLogger))
        let running = Task { try await services.run() }
        try await first.started.value()
        #expect(log.entries == ["first started"], "the second service did not wait")
        prerequisite.succeed(())
        try await second.started.value()
        await services.triggerGracefulShutdown()
        try await running.value
        // Graceful shutdown runs in reverse order of registration.
        #expect(log.entries == ["first started", "second started", "first stopped", "second stopped"])
    }

    @Test func aGracefulShutdownBeforeThePrerequisiteEndsTheServiceWithoutStartingIt() async throws {
        let never = StartupEvent<Void>()
        let log = EntryLog()
        let service = RecordingService(name: "server", log: log)
        let services = ServiceGroup(configuration: .init(
            services: [StartAfter(base: service) { try await never.value() }], logger: quietLogger))
        await services.triggerGracefulShutdown()
        try await services.run()
        #expect(log.entries.isEmpty, "\(log.entries)")
    }

    private var quietLogger: Logger {
        var logger = Logger(label: "test.startup")
        logger.logLevel = .critical
        return logger
    }
}

/// Writes its start and its stop to a log the test reads.
private final class RecordingService: Service, Sendable {
    let name: String
    let log: EntryLog
    let started = StartupEvent<Void>()

    init(name: String, log: EntryLog) {
        self.name = name
        self.log = log
    }

    func run() async throws {
        log.append("\(name) started")
        started.succeed(())
        try? await gracefulShutdown()
        log.append("\(name) stopped")
    }
}

private final class EntryLog: Sendable {
    private let lines = Mutex<[String]>([])
    var entries: [String] { lines.withLock { $0 } }
    func append(_ line: String) { lines.withLock { $0.append(line) } }
}
