import NIOCore
import RESP

/// A Lua script called by its SHA-1 (EVALSHA): a fill's store and an invalidation run on
/// every miss and write, and EVAL would make Redis receive and hash the whole body each time.
/// A Redis that lacks the script (restarted, SCRIPT FLUSH, a new cluster node) answers
/// NOSCRIPT, and that one call is sent again as EVAL, which loads it.
///
/// The SHA-1 is a constant because the project has no hashing library; a test checks it
/// against what Redis's SCRIPT LOAD returns for the body.
public struct RedisScript: Sendable {
    public let sha1: ByteBuffer
    public let body: ByteBuffer

    public init(sha1: String, body: String) {
        self.sha1 = ByteBuffer(string: sha1)
        self.body = ByteBuffer(string: body)
    }
}

extension RedisClient {
    /// Runs `script` with `numkeys`, keys and arguments (`tail`), by SHA-1 first.
    public func evaluate(_ script: RedisScript, _ tail: [ByteBuffer], on eventLoop: any EventLoop) -> EventLoopFuture<RESPValue> {
        var command = [Self.evalsha, script.sha1]
        command.reserveCapacity(2 + tail.count)
        command.append(contentsOf: tail)
        return send(command, on: eventLoop).flatMap { [self] reply in
            guard case .error(let message) = reply, message.readableBytesView.starts(with: Self.noscript) else {
                return eventLoop.makeSucceededFuture(reply)
            }
            return send([Self.eval, script.body] + tail, on: eventLoop)
        }
    }

    private static let evalsha = ByteBuffer(string: "EVALSHA")
    private static let eval = ByteBuffer(string: "EVAL")
    private static let noscript = Array("NOSCRIPT".utf8)
}
