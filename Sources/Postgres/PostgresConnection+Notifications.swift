import CLibPQ

/// One `NOTIFY` a listening connection received.
public struct PostgresNotification: Sendable, Equatable {
    public let channel: String
    public let payload: String
    /// The server process of the transaction that sent it.
    public let senderPID: Int32

    public init(channel: String, payload: String, senderPID: Int32) {
        self.channel = channel
        self.payload = payload
        self.senderPID = senderPID
    }
}

/// The listening half of a connection that ran `LISTEN`: libpq queues the notifications it
/// reads; `consumeInput` (once the socket is readable) reads them without blocking.
extension PostgresConnection {
    /// The next notification libpq has read, or nil when it holds none.
    public func nextNotification() -> PostgresNotification? {
        guard let pointer = PQnotifies(handle) else { return nil }
        defer { PQfreemem(pointer) }
        let notification = pointer.pointee
        return PostgresNotification(
            channel: notification.relname.map { String(cString: $0) } ?? "",
            payload: notification.extra.map { String(cString: $0) } ?? "",
            senderPID: notification.be_pid)
    }
}

/// A ping on a listening connection: an empty query sent without waiting, whose answer
/// `consumeInput` reads like the notifications. An answer proves the server alive.
extension PostgresConnection {
    public func sendPing() throws {
        guard PQsendQuery(handle, "") == 1 else { throw currentError() }
    }

    /// True once the answer to `sendPing` has been read whole (it is then taken).
    public func takePingAnswer() -> Bool {
        guard PQisBusy(handle) == 0 else { return false }
        var answered = false
        while let result = PQgetResult(handle) {
            PQclear(result)
            answered = true
        }
        return answered
    }
}
