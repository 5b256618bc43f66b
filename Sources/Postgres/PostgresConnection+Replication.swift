import CLibPQ

/// The streaming half of a logical replication connection (one opened with
/// `replication: true`): start a `COPY BOTH` stream, read its messages without blocking,
/// send status updates back. `ReplicationMessage` decodes what is read.
extension PostgresConnection {
    /// The connection's socket, for `poll()`; -1 when closed.
    public var socketDescriptor: Int32 { PQsocket(handle) }

    /// Reads whatever the server sent without blocking (call when the socket is readable).
    public func consumeInput() throws {
        guard PQconsumeInput(handle) == 1 else {
            throw PostgresError.connectionLost(address: address, message: lastErrorMessageText)
        }
    }

    /// Sends a replication command that opens the stream (`START_REPLICATION …`).
    public func startStreaming(_ command: String) throws {
        guard let result = PQexec(handle, command) else {
            throw PostgresError.connectionLost(address: address, message: lastErrorMessageText)
        }
        defer { PQclear(result) }
        guard PQresultStatus(result) == PGRES_COPY_BOTH else {
            throw streamError(result)
        }
    }

    /// The next message of the stream, or nil when none is complete yet (call
    /// `consumeInput` once the socket is readable). Throws when the stream ends.
    public func readStreamMessage() throws -> [UInt8]? {
        var buffer: UnsafeMutablePointer<CChar>?
        let length = PQgetCopyData(handle, &buffer, 1)
        if length > 0, let buffer {
            defer { PQfreemem(buffer) }
            return buffer.withMemoryRebound(to: UInt8.self, capacity: Int(length)) {
                Array(UnsafeBufferPointer(start: $0, count: Int(length)))
            }
        }
        if length == 0 { return nil }
        // -1: the server ended the stream (its result says why); -2: the connection failed.
        var reason = lastErrorMessageText
        while let result = PQgetResult(handle) {
            if PQresultStatus(result) == PGRES_FATAL_ERROR {
                reason = streamError(result).description
            }
            PQclear(result)
        }
        throw PostgresError.connectionLost(address: address, message: "replication stream ended: \(reason)")
    }

    /// Sends one message on the stream and flushes it.
    public func sendStreamMessage(_ bytes: [UInt8]) throws {
        let sent = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { PQputCopyData(handle, $0.baseAddress, Int32($0.count)) }
        }
        guard sent == 1, PQflush(handle) == 0 else {
            throw PostgresError.connectionLost(address: address, message: lastErrorMessageText)
        }
    }

    private func streamError(_ result: OpaquePointer) -> PostgresError {
        let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
        let message = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
            ?? PQresultErrorMessage(result).map { String(cString: $0) } ?? "unknown error"
        if PQstatus(handle) != CONNECTION_OK {
            return .connectionLost(address: address, message: message)
        }
        return .queryFailed(sqlState: state, message: message)
    }
}
