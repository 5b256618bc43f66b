import CLibPQ
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Statements with a client-side time limit: sent without blocking, their answer awaited in
/// `poll()` until `responseTimeoutMilliseconds`. Past it the connection is abandoned (its
/// answer may still come), so the pool replaces it and the request fails instead of waiting
/// on a silent server for as long as TCP does.
extension PostgresConnection {
    /// Sends with `send` (a `PQsend…` call), waits for every result and returns the last,
    /// throwing the first error, as `PQexec` does.
    func answered(_ send: () -> Int32) throws -> QueryResult {
        let limit = responseTimeoutMilliseconds ?? 0
        let deadline = ContinuousClock.now + .milliseconds(limit)
        guard send() == 1 else { throw currentError() }
        while true {
            let flushed = PQflush(handle)
            if flushed == 0 { break }
            guard flushed > 0 else { throw currentError() }
            try wait(for: Int16(POLLOUT | POLLIN), until: deadline, limit: limit)
            guard PQconsumeInput(handle) == 1 else { throw currentError() }
        }
        var last: QueryResult?
        var failure: (any Error)?
        while true {
            while PQisBusy(handle) == 1 {
                try wait(for: Int16(POLLIN), until: deadline, limit: limit)
                guard PQconsumeInput(handle) == 1 else { throw currentError() }
            }
            guard let result = PQgetResult(handle) else { break }
            do {
                let read = try consume(result)
                if failure == nil { last = read }
            } catch {
                if failure == nil { failure = error }
            }
        }
        if let failure { throw failure }
        guard let last else { throw currentError() }
        return last
    }

    /// Waits until the socket is ready for `events`; past `deadline` abandons the connection.
    private func wait(for events: Int16, until deadline: ContinuousClock.Instant, limit: Int) throws {
        let descriptor = PQsocket(handle)
        guard descriptor >= 0 else { throw currentError() }
        while true {
            let left = deadline - .now
            guard left > .zero else {
                abandoned = true
                throw PostgresError.connectionLost(
                    address: address, message: "no answer within \(limit) ms (the server or the network is silent)")
            }
            var poller = pollfd(fd: descriptor, events: events, revents: 0)
            let milliseconds = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1
            let ready = poll(&poller, 1, Int32(min(milliseconds, 1_000)))
            if ready > 0 { return }
            if ready < 0 && errno != EINTR { throw currentError() }
        }
    }
}
