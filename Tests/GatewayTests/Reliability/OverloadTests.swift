import Foundation
import Gateway
import Synchronization
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// 5,000 clients connected at once are all served (a PING and a read-through GET each);
/// client 5,001 is over `server.max_clients` and gets Redis's own error.
@Suite(.timeLimit(.minutes(1))) struct OverloadTests {
    private static let clients = 5_000

    @Test func fiveThousandConcurrentClientsAreServedAndOneMoreIsRefused() async throws {
        // Client and server sockets both live in this process: 10,000 descriptors and more.
        try Self.raiseDescriptorLimit(to: 3 * Self.clients)
        let harness = try await GatewayHarness(
            label: "overload", setUp: ListingRows.setUp(count: 100),
            configure: { $0.server.maxClients = Self.clients })
        defer { Task { await harness.stop() } }

        let started = Date()
        var connections: [RawClient] = []
        connections.reserveCapacity(Self.clients)
        for _ in 0..<Self.clients { connections.append(try RawClient(port: harness.port, receiveTimeout: .seconds(20))) }
        let connectSeconds = Date().timeIntervalSince(started)

        // Every client sends its two requests before any reads, so all 5,000 are in flight.
        for (index, connection) in connections.enumerated() {
            try connection.sendCommand(["PING"])
            try connection.sendCommand(["GET", "listing:\(index % 100 + 1)"])
        }
        let served = Atomic<Int>(0)
        let wrong = Mutex<[String]>([])
        let shared = ClientsByWorker(connections)
        let readers = BackgroundWorkers(count: 50) { worker in
            for index in stride(from: worker, to: shared.clients.count, by: 50) {
                let pong = try shared.clients[index].readReply()
                let value = try shared.clients[index].readReply()
                if pong == .simpleString("PONG"), value.text?.contains("\"id\": \(index % 100 + 1),") == true {
                    served.add(1, ordering: .relaxed)
                } else {
                    wrong.withLock { $0.append("client \(index): \(pong) \(value)") }
                }
            }
        }
        try readers.join()
        let servedSeconds = Date().timeIntervalSince(started)

        // One more than the maximum: refused with Redis's wording, the others unaffected.
        let extra = try RawClient(port: harness.port)
        let rejected = extra.readUntilClosed()
        let rejection = String(decoding: rejected.bytes, as: UTF8.self)
        print("overload: clients=\(Self.clients) served=\(served.load(ordering: .relaxed)) "
              + "connect_s=\(String(format: "%.2f", connectSeconds)) all_served_s=\(String(format: "%.2f", servedSeconds))")
        #expect(served.load(ordering: .relaxed) == Self.clients, "\(wrong.withLock { $0.prefix(3) })")
        #expect(rejection == "-ERR max number of clients reached\r\n")
        #expect(try connections[0].command("PING") == .simpleString("PONG"))
        connections.removeAll()
    }

    /// Raises this process's open-file limit (soft, up to the hard limit) if it is lower.
    static func raiseDescriptorLimit(to wanted: Int) throws {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { throw TestFailure("getrlimit failed") }
        guard limit.rlim_cur < rlim_t(wanted) else { return }
        limit.rlim_cur = min(rlim_t(wanted), limit.rlim_max)
        guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur >= rlim_t(wanted) else {
            throw TestFailure("the open-file limit is \(limit.rlim_max); the overload test needs \(wanted)")
        }
    }
}

/// The clients handed to the reader threads: each thread reads only its own indices
/// (worker, worker + 50, …), so no client is used by two threads.
private final class ClientsByWorker: @unchecked Sendable {
    let clients: [RawClient]
    init(_ clients: [RawClient]) { self.clients = clients }
}
