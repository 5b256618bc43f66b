import CacheModel
import NIOCore
import ReadThrough
import RedisBackend
import RESP

/// What running a command produced: a reply now, a reply and then the end of the
/// connection, or a reply that a backend will produce later (kept in request order).
enum CommandOutcome {
    case reply(RESPValue)
    case replyAndClose(RESPValue)
    case deferred(EventLoopFuture<RESPValue>)
    /// A GET for the connection to start, its reply going straight to the connection: the hit
    /// path, without futures.
    case cacheGet(CacheGet)
    /// Nothing to answer (`CLIENT REPLY OFF|SKIP`).
    case noReply
}

/// One read-through GET, described by the dispatcher and run by the connection handler, which
/// owns the reply's place in the output order and receives Redis's reply itself (no closure).
struct CacheGet {
    let cache: ReadThroughCache
    let key: CacheKey
    /// The key as the client sent it.
    let name: ByteBuffer
    /// The near cache's mark for the key, taken now (before the GET leaves): nil when the value
    /// read must not be kept in the gateway's memory.
    let nearMark: NearCache.Mark?

    /// What Redis's reply became: the client's reply now, or later (a miss being filled).
    enum Step {
        case reply(RESPValue)
        case later(EventLoopFuture<RESPValue>)
    }

    /// Sends the Redis GET; its reply goes to `receiver` with `tag` on `eventLoop` (the current loop).
    func start(on eventLoop: any EventLoop, receiver: any RedisReplyReceiver, tag: Int) {
        cache.startGet(name: name, on: eventLoop, receiver: receiver, tag: tag)
    }

    /// Turns Redis's reply to the GET of `key` into the client's reply (a miss is filled from
    /// PostgreSQL first). Static: the connection keeps only the key while Redis answers.
    static func finish(
        _ result: Result<RESPValue, any Error>, key: CacheKey, cache: ReadThroughCache, on eventLoop: any EventLoop,
        shedMisses: FillShed? = nil, nearMark: NearCache.Mark? = nil
    ) -> Step {
        switch cache.finishGet(result, key: key, on: eventLoop, shedMisses: shedMisses, nearMark: nearMark) {
        case .value(let value?): return .reply(.bulkString(value))
        case .value(nil): return .reply(.nullBulkString)
        case .failed(let error): return .reply(Replies.fillFailed(error))
        case .later(let fill):
            return .later(fill.map { $0.map(RESPValue.bulkString) ?? .nullBulkString }.recover(Replies.fillFailed))
        }
    }
}

/// Redis's standard error replies, word for word.
enum Replies {
    static let ok = RESPValue.simpleString("OK")
    static let noAuth = RESPValue.error("NOAUTH Authentication required.")
    static let wrongPass = RESPValue.error("WRONGPASS invalid username-password pair or user is disabled.")
    static let syntax = RESPValue.error("ERR syntax error")

    /// A miss that PostgreSQL could not fill: fails fast with a retryable error.
    static func fillFailed(_ error: any Error) -> RESPValue {
        .error("TRYAGAIN the value is not cached and could not be read from PostgreSQL: \(error)")
    }

    static func wrongArity(_ fullName: String) -> RESPValue {
        .error("ERR wrong number of arguments for '\(fullName)' command")
    }

    /// `ERR unknown command 'foo', with args beginning with: 'a' 'b' `
    static func unknownCommand(_ arguments: [ByteBuffer]) -> RESPValue {
        var text = "ERR unknown command '\(printable(arguments[0], limit: 128))', with args beginning with: "
        var budget = 128
        for argument in arguments.dropFirst() where budget > 0 {
            let piece = printable(argument, limit: budget)
            text += "'\(piece)' "
            budget -= piece.utf8.count
        }
        return .error(text)
    }

    static func unknownSubcommand(_ subcommand: ByteBuffer, of command: String) -> RESPValue {
        .error("ERR unknown subcommand '\(printable(subcommand, limit: 128))'. Try \(command.uppercased()) HELP.")
    }

    /// Argument text safe to put in an error line: no CR/LF, bounded length.
    static func printable(_ buffer: ByteBuffer, limit: Int) -> String {
        let bytes = buffer.readableBytesView.prefix(limit).map { byte -> UInt8 in
            (byte == 13 || byte == 10) ? UInt8(ascii: " ") : byte
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension ByteBuffer {
    /// The bytes as text (invalid UTF-8 repaired), for names and small arguments.
    var text: String { String(decoding: readableBytesView, as: UTF8.self) }

    /// The bytes lowercased as ASCII text, for case-insensitive command names.
    var lowercasedASCII: String {
        String(decoding: readableBytesView.map { ($0 >= 65 && $0 <= 90) ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    /// Case-insensitive ASCII comparison with a lowercase literal, without allocating.
    func equalsIgnoringCase(_ lowercase: StaticString) -> Bool {
        guard readableBytes == lowercase.utf8CodeUnitCount else { return false }
        return lowercase.withUTF8Buffer { expected in
            var index = 0
            for byte in readableBytesView {
                let folded = (byte >= 65 && byte <= 90) ? byte | 0x20 : byte
                if folded != expected[index] { return false }
                index += 1
            }
            return true
        }
    }

    /// A decimal integer argument, or nil.
    var integerValue: Int? { Int(text) }
}
