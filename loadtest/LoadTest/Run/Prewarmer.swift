import HiredisClient

/// `--mode hit-only`: make every key of the universe a hit before measuring.
///
/// With `preload` (plain Redis, twemproxy: no read-through) each key is first SET to a
/// deterministic ~400-byte JSON blob; then every key is read once through the target, which
/// fills the gateway's cache. Pipelined 200 deep on one connection.
enum Prewarmer {
    static let pipeline = 200

    /// Returns the number of keys read.
    static func run(keys: [String], host: String, port: Int, preload: Bool) throws(RunError) -> Int {
        let connection = try HiredisConnection.connect(host: host, port: port, timeoutSeconds: 10)
        var start = 0
        while start < keys.count {
            let chunk = keys[start..<min(keys.count, start + pipeline)]
            if let refused = try warm(chunk, connection, preload: preload) {
                throw .invalidOption("--preload: the target refused SET \(refused.key): \(refused.message)")
            }
            start += pipeline
        }
        return keys.count
    }

    /// One pipelined chunk; the first refused SET, if any.
    private static func warm(_ chunk: ArraySlice<String>, _ connection: HiredisConnection, preload: Bool)
        throws(RunError) -> (key: String, message: String)? {
        do throws(HiredisError) {
            if preload {
                for key in chunk { try connection.append(["SET", key, blob(for: key)]) }
            }
            for key in chunk { try connection.append(["GET", key]) }
            try connection.flush()
            if preload {
                for key in chunk {
                    if case let .error(text) = try connection.readReply() { return (key, text) }
                }
            }
            for _ in chunk { _ = try connection.readReply() }
            return nil
        } catch {
            throw RunError(error)
        }
    }

    /// About 400 bytes of JSON that names its key.
    static func blob(for key: String) -> String {
        let head = "{\"key\":\"\(key)\",\"source\":\"quicksell-loadtest preload\",\"padding\":\""
        let padding = String(repeating: "x", count: max(0, 398 - head.utf8.count))
        return head + padding + "\"}"
    }
}
