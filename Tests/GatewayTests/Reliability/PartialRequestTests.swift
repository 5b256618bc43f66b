import Foundation
import RESP
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Issue 26: requests that declare a huge bulk and send it slowly or in part must not add up
/// without a cap. Each connection may hold `limits.client_query_buffer_bytes` (16 MiB) of a
/// request not yet run; past it, it is closed and counted.
@Suite(.timeLimit(.minutes(1))) struct PartialRequestTests {
    @Test func connectionsSendingAHugeDeclaredBulkAreClosedAtTheQueryBufferLimit() async throws {
        try await withGateway { server in
            let bystander = try RawClient(port: server.localPort)
            let limit = 16 << 20
            for _ in 0..<3 {
                let client = try RawClient(port: server.localPort)
                try client.send("*2\r\n$3\r\nGET\r\n$536870000\r\n")
                let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20)
                var sent = 0
                var closed = false
                while sent < 4 * limit {
                    do { try client.send(chunk) } catch {
                        closed = true
                        break
                    }
                    sent += chunk.count
                }
                #expect(closed, "the gateway took \(sent >> 20) MiB of one unfinished request")
                #expect(sent < 3 * limit, "closed only after \(sent >> 20) MiB")
            }
            #expect(try bystander.command("PING") == .simpleString("PONG"))
            let stats = try bystander.command("INFO", "stats").text ?? ""
            #expect(stats.contains("client_query_buffer_limit_disconnections:3"), "\(stats)")
            var clients = ""
            let released = await eventually {
                clients = (try? bystander.command("INFO", "clients").text) ?? ""
                return clients.contains("mem_clients_normal:0\r\n")
            }
            #expect(released, "\(clients)")
        }
    }
}
