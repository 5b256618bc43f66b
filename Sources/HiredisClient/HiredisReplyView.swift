import CHiredis

/// A reply still in hiredis's memory, for a caller that reads only part of it (the load tool
/// reads a GET reply's kind and copies its text only for sampled requests). Valid only inside
/// the closure it is passed to.
public struct HiredisReplyView {
    /// What a reply is, without its contents.
    public enum Kind: Sendable, Equatable {
        case string, status, error, integer, null, array, unsupported
    }

    private let reply: UnsafePointer<redisReply>

    init(_ reply: UnsafePointer<redisReply>) {
        self.reply = reply
    }

    public var kind: Kind {
        switch reply.pointee.type {
        case REDIS_REPLY_STRING: return .string
        case REDIS_REPLY_STATUS: return .status
        case REDIS_REPLY_ERROR: return .error
        case REDIS_REPLY_INTEGER: return .integer
        case REDIS_REPLY_NIL: return .null
        case REDIS_REPLY_ARRAY: return .array
        default: return .unsupported
        }
    }

    /// The bytes of a string, status or error reply, decoded as UTF-8 (a copy).
    public var text: String {
        guard let bytes = reply.pointee.str else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: bytes, count: Int(reply.pointee.len)), as: UTF8.self)
    }

    /// The whole reply as values (copies every string).
    public var value: HiredisReply {
        Self.value(reply)
    }

    private static func value(_ reply: UnsafePointer<redisReply>) -> HiredisReply {
        let raw = reply.pointee
        func text() -> String {
            guard let bytes = raw.str else { return "" }
            return String(decoding: UnsafeRawBufferPointer(start: bytes, count: Int(raw.len)), as: UTF8.self)
        }
        switch raw.type {
        case REDIS_REPLY_STRING: return .string(text())
        case REDIS_REPLY_STATUS: return .status(text())
        case REDIS_REPLY_ERROR: return .error(text())
        case REDIS_REPLY_INTEGER: return .integer(raw.integer)
        case REDIS_REPLY_NIL: return .null
        case REDIS_REPLY_ARRAY:
            var items: [HiredisReply] = []
            items.reserveCapacity(Int(raw.elements))
            for index in 0..<Int(raw.elements) {
                if let element = raw.element[index] { items.append(value(element)) }
            }
            return .array(items)
        default: return .unsupported(type: raw.type)
        }
    }
}
