import HiredisClient

/// What a GET reply was, with its text only when the request is sampled for verification:
/// the other replies are counted without copying anything out of hiredis.
enum GetReply {
    case value(String?)
    case null
    case error(String)
    case other

    init(_ reply: HiredisReplyView, keepingText: Bool) {
        switch reply.kind {
        case .string, .status: self = .value(keepingText ? reply.text : nil)
        case .null: self = .null
        case .error: self = .error(reply.text)
        case .integer, .array, .unsupported: self = .other
        }
    }
}
