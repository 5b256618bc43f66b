import CLibPQ

/// One `NOTIFY` received on a connection that `LISTEN`s.
public struct PostgresNotification: Sendable, Equatable {
    public let channel: String
    public let payload: String
    /// The notifying backend's process id.
    public let senderPID: Int
}

/// LISTEN support: the socket to `poll()` on, and draining what arrived.
extension PostgresConnection {
    /// The connection's socket, for `poll()`; -1 when closed.
    public var socketDescriptor: Int32 { PQsocket(handle) }

    /// Reads whatever the server sent without blocking (call when the socket is readable).
    public func consumeInput() throws {
        guard PQconsumeInput(handle) == 1 else {
            throw PostgresError.connectionLost(address: address, message: lastErrorMessageText)
        }
    }

    /// The notifications received so far, in arrival (commit) order.
    public func drainNotifications() -> [PostgresNotification] {
        var received: [PostgresNotification] = []
        while let notify = PQnotifies(handle) {
            let value = notify.pointee
            received.append(PostgresNotification(
                channel: value.relname.map { String(cString: $0) } ?? "",
                payload: value.extra.map { String(cString: $0) } ?? "",
                senderPID: Int(value.be_pid)))
            PQfreemem(notify)
        }
        return received
    }
}
