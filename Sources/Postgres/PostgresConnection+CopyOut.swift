import CLibPQ

extension PostgresConnection {
    /// Streams `COPY … TO STDOUT` to `consume`, one row (as PostgreSQL formats it, with its
    /// line end) per call; the header line of `HEADER` is one call too. Returns the rows
    /// PostgreSQL reports it copied (the header not counted). Memory stays one row.
    @discardableResult
    public func copyOut(_ sql: String, _ consume: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        guard let start = PQexec(handle, sql) else { throw currentError() }
        guard PQresultStatus(start) == PGRES_COPY_OUT else {
            defer { PQclear(start) }
            throw resultError(start)
        }
        PQclear(start)
        var consumerError: Error?
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(handle, &buffer, 0)
            if length > 0, let buffer {
                defer { PQfreemem(buffer) }
                // After a consumer failure the rest is read and dropped: libpq has no way to
                // stop a COPY TO early but reading it to its end.
                if consumerError == nil {
                    do {
                        try consume(UnsafeRawBufferPointer(start: buffer, count: Int(length)))
                    } catch {
                        consumerError = error
                    }
                }
                continue
            }
            if length == -2 { throw currentError() }
            break  // -1: the copy is over; its result follows.
        }
        let result = try self.consume(PQgetResult(handle))
        drainResults()
        if let consumerError { throw consumerError }
        return result.affectedRows
    }
}
