import Logging
import Synchronization

/// The bytes all client connections hold together (replies their sockets have not taken,
/// request bytes not yet run), the disconnections the buffer limits caused, and their log:
/// one warning the first time each cause strikes (a flood of misbehaving clients must not
/// become a flood of log lines), then only the counters in `INFO stats` and the metrics.
final class ClientMemory: Sendable {
    let limits: ClientBufferLimits
    private let total = Atomic<Int>(0)
    /// Disconnections by cause (rare: a lock costs nothing here), and whether each was logged.
    private let disconnectionsByCause = Mutex<[ClientBufferLimits.Cause: (count: Int, logged: Bool)]>([:])
    private let logger: Logger

    init(limits: ClientBufferLimits, logger: Logger) {
        self.limits = limits
        self.logger = logger
    }

    /// Bytes held by every client connection (`INFO memory` `mem_clients_normal`).
    var totalBytes: Int { total.load(ordering: .relaxed) }

    /// A connection's holding changed by `delta`: returns the new total.
    func adjust(by delta: Int) -> Int {
        total.wrappingAdd(delta, ordering: .relaxed).newValue
    }

    func disconnections(_ cause: ClientBufferLimits.Cause) -> Int {
        disconnectionsByCause.withLock { $0[cause]?.count ?? 0 }
    }

    /// Counts a disconnection, and logs it if it is the first of its cause.
    func disconnected(_ cause: ClientBufferLimits.Cause, client: String, output: Int, input: Int) {
        let first = disconnectionsByCause.withLock { counts in
            let previous = counts[cause] ?? (0, false)
            counts[cause] = (previous.count + 1, true)
            return !previous.logged
        }
        guard first else { return }
        logger.warning("closing a client over a buffer limit (logged once per cause; INFO stats counts every one)", metadata: [
            "cause": "\(Self.explanation(cause))", "counter": "\(cause.rawValue)", "client": "\(client)",
            "output_bytes": "\(output)", "input_bytes": "\(input)", "all_clients_bytes": "\(totalBytes)"])
    }

    private static func explanation(_ cause: ClientBufferLimits.Cause) -> String {
        switch cause {
        case .outputBuffer: "replies not read past limits.client_output_buffer_hard_bytes"
        case .queryBuffer: "request bytes not run past limits.client_query_buffer_bytes"
        case .gatewayLimit: "all clients' buffers past limits.maxmemory_clients_bytes, this one past the soft output limit"
        }
    }
}
