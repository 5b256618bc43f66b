import NIOCore
import RESP

/// Receives the replies to commands sent with `RedisClient.send(_:key:on:receiver:tag:)`, on
/// the connection's event loop. The hit path's form: the receiver (a client connection)
/// already exists, so a reply costs no closure, promise or future; `tag` tells the receiver
/// which of its commands the reply answers.
public protocol RedisReplyReceiver: AnyObject {
    func redisReplied(_ result: Result<RESPValue, any Error>, tag: Int)
}

/// Where the reply to one queued command goes. The hit path uses a receiver object and a tag,
/// run on the connection's event loop, instead of a promise, its future and the callbacks
/// chained on it; everything else keeps the future-based API.
enum ReplyTarget {
    case promise(EventLoopPromise<RESPValue>)
    case receiver(any RedisReplyReceiver, tag: Int)

    func succeed(_ value: RESPValue) {
        switch self {
        case .promise(let promise): promise.succeed(value)
        case .receiver(let receiver, let tag): receiver.redisReplied(.success(value), tag: tag)
        }
    }

    func fail(_ error: any Error) {
        switch self {
        case .promise(let promise): promise.fail(error)
        case .receiver(let receiver, let tag): receiver.redisReplied(.failure(error), tag: tag)
        }
    }
}
