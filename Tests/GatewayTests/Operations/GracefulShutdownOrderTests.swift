import Foundation
import Gateway
import ReadThrough
import RESP
import Synchronization
import Testing
import TestSupport

/// The gateway's one lifecycle: on graceful shutdown the server stops accepting and answers
/// what clients already sent while the metrics endpoint, the health probes, the invalidation
/// listener and the backends still run; then those stop, in that order.
@Suite(.timeLimit(.minutes(1))) struct GracefulShutdownOrderTests {
    @Test func aPendingReplyIsAnsweredBeforeTheEndpointsTheListenerAndTheBackendsStop() async throws {
        let fillReached = Flag()
        let releaseFill = Gate()
        let log = CapturedLog()
        let harness = try await GatewayHarness(
            label: "life_order",
            hooks: FillHooks(afterQuery: { _ in
                fillReached.set()
                releaseFill.waitUntilOpen(timeoutSeconds: 20)
            }),
            metricsPort: 0, logger: log.logger(), setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        defer { releaseFill.open() }
        try await harness.waitForListener()
        let metricsPort = try #require(harness.gateway.endpoints?.port)
        let slot = harness.configuration.invalidation.replicationSlot
        #expect(try slotIsActive(slot, harness) == true)

        // A miss whose fill is held: its reply is pending when the shutdown starts.
        let client = try RawClient(port: harness.port, receiveTimeout: .seconds(20))
        try client.sendCommand(["GET", "user:1"])
        #expect(await eventually(timeout: .seconds(10)) { fillReached.isSet }, "the fill never ran")
        let stopping = Task { await harness.gateway.shutdown() }

        // Draining: no new client gets in, but the endpoint and the listener still run.
        #expect(await eventually(timeout: .seconds(10)) { (try? RawClient(port: harness.port)) == nil },
                "the gateway still accepts clients after the shutdown started")
        #expect(try httpGet(port: metricsPort, path: "/healthz").status == 200)
        #expect(try slotIsActive(slot, harness) == true)

        // The pending reply is the value (Redis and PostgreSQL still open), then the client is closed.
        releaseFill.open()
        let reply = try client.readReply()
        guard case .bulkString(let value) = reply else {
            Issue.record("the pending GET got \(reply) instead of the user")
            return
        }
        #expect(String(buffer: value).contains("alice"), "\(String(buffer: value))")
        #expect(client.readUntilClosed().closed, "the drained client was not closed")

        await stopping.value
        #expect((try? RawClient(port: metricsPort)) == nil, "the metrics endpoint still accepts after the shutdown")
        #expect(try await eventually(timeout: .seconds(5)) { try slotIsActive(slot, harness) == false },
                "the invalidation listener still streams after the shutdown")

        let order = [
            "drained", "metrics and health endpoints closed", "health probes stopped", "invalidation listener stopped",
            "closing Redis, PostgreSQL and the event loops", "stopped",
        ]
        let messages = log.messages
        let positions = order.map { step in messages.firstIndex(of: step) }
        #expect(positions.allSatisfy { $0 != nil }, "steps missing from the log: \(messages)")
        let found = positions.compactMap { $0 }
        #expect(found == found.sorted(), "shutdown steps out of order: \(messages)")
    }

    @Test func aGatewayWhosePortIsTakenFailsToStartAndClosesWhatItOpened() async throws {
        let first = try await GatewayHarness(label: "life_taken")
        defer { Task { await first.stop() } }
        let log = CapturedLog()
        await #expect {
            _ = try await GatewayHarness(label: "life_taken_again", logger: log.logger(), configure: { configuration in
                configuration.server.port = first.port
            })
        } throws: { error in
            "\(error)".contains("cannot listen on") && "\(error)".contains(":\(first.port)")
        }
        #expect(log.messages.contains("closing Redis, PostgreSQL and the event loops"), "\(log.messages)")
        #expect(!log.messages.contains("listening"), "\(log.messages)")
    }

    private func slotIsActive(_ slot: String, _ harness: GatewayHarness) throws -> Bool? {
        let text = try harness.database.connect()
            .query("SELECT active::text FROM pg_replication_slots WHERE slot_name = $1", [slot]).scalar
        return text.map { $0 == "true" }
    }
}

/// Set once by a pool thread, read by the test.
private final class Flag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}
