import NIOCore
import RESP

/// One argument of a Redis command, written straight into the output buffer as a bulk string
/// (no intermediate `RESPValue`).
protocol RedisCommandArgument: ClusterRoutable, Sendable {
    func writeBulkString(into buffer: inout ByteBuffer)
}

extension ByteBuffer: RedisCommandArgument {
    @inline(__always)
    func writeBulkString(into buffer: inout ByteBuffer) {
        buffer.writeRESPBulkString(self)
    }
}

extension String: RedisCommandArgument {
    @inline(__always)
    func writeBulkString(into buffer: inout ByteBuffer) {
        buffer.writeRESPBulkString(self)
    }
}

extension ByteBuffer {
    /// `*<n>\r\n` followed by one bulk string per argument: the form Redis expects from clients.
    mutating func writeRedisCommand<Argument: RedisCommandArgument>(_ arguments: [Argument]) {
        writeRESPArrayHeader(arguments.count)
        for argument in arguments {
            argument.writeBulkString(into: &self)
        }
    }
}
