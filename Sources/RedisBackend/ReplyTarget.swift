import NIOCore
import RESP

/// Where the reply to one queued command goes. The hit path uses a plain callback run on the
/// connection's event loop, which costs one closure instead of a promise, its future and the
/// callbacks chained on it; everything else keeps the future-based API.
enum ReplyTarget {
    case promise(EventLoopPromise<RESPValue>)
    case callback((Result<RESPValue, any Error>) -> Void)

    func succeed(_ value: RESPValue) {
        switch self {
        case .promise(let promise): promise.succeed(value)
        case .callback(let callback): callback(.success(value))
        }
    }

    func fail(_ error: any Error) {
        switch self {
        case .promise(let promise): promise.fail(error)
        case .callback(let callback): callback(.failure(error))
        }
    }
}
