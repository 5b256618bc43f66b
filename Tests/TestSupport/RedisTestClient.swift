import HiredisClient

/// A blocking Redis client on hiredis (the reference C client) for tests: it talks to the
/// gateway or to Redis exactly as a real application would.
public final class RedisTestClient {
    public typealias Reply = HiredisReply

    /// A failure the test helpers find themselves (hiredis's own are `HiredisError`s).
    public struct ConnectionError: Error, CustomStringConvertible {
        public let description: String
    }

    private var connection: HiredisConnection
    /// Follow Redis Cluster redirections (`MOVED`, `ASK`) in `command`, as a cluster-aware
    /// client does, so that a test reads any key of a cluster through one client.
    public var followsClusterRedirections = false
    private let timeoutSeconds: Int
    /// Why the last `append` or `flush` failed, thrown by the next `readReply`.
    private var failedSend: HiredisError?

    public init(host: String = "127.0.0.1", port: Int, timeoutSeconds: Int = 10) throws {
        connection = try HiredisConnection(host: host, port: port, timeoutSeconds: timeoutSeconds)
        self.timeoutSeconds = timeoutSeconds
    }

    /// Sends one command and waits for its reply.
    public func command(_ arguments: String...) throws -> Reply {
        try command(arguments)
    }

    public func command(_ arguments: [String]) throws -> Reply {
        var reply = try connection.command(arguments)
        guard followsClusterRedirections else { return reply }
        for _ in 0..<5 {
            guard case .error(let message) = reply else { return reply }
            let words = message.split(separator: " ")
            guard words.count == 3, words[0] == "MOVED" || words[0] == "ASK",
                  let colon = words[2].lastIndex(of: ":"), let port = Int(words[2][words[2].index(after: colon)...])
            else { return reply }
            let host = String(words[2][..<colon])
            connection = try HiredisConnection(host: host.isEmpty ? "127.0.0.1" : host, port: port, timeoutSeconds: timeoutSeconds)
            if words[0] == "ASK" { _ = try connection.command(["ASKING"]) }
            reply = try connection.command(arguments)
        }
        return reply
    }

    /// Queues a command without waiting (pipelining); read its reply with `readReply`, which
    /// reports any failure to queue or send it.
    public func append(_ arguments: [String]) {
        do throws(HiredisError) { try connection.append(arguments) } catch { failedSend = error }
    }

    /// Writes everything queued so far without reading.
    public func flush() {
        do throws(HiredisError) { try connection.flush() } catch { failedSend = error }
    }

    /// Reads the next reply of a queued command.
    public func readReply() throws -> Reply {
        if let failedSend {
            self.failedSend = nil
            throw failedSend
        }
        return try connection.readReply()
    }
}
