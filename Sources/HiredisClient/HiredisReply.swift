/// A whole reply as Swift values (RESP2, as hiredis reads it by default).
public enum HiredisReply: Equatable, Sendable, CustomStringConvertible {
    case string(String)
    case status(String)
    case error(String)
    case integer(Int64)
    case null
    case array([HiredisReply])
    /// A reply type outside RESP2 (hiredis's `REDIS_REPLY_*` code), which these callers never ask for.
    case unsupported(type: Int32)

    /// The text of a bulk string or a status reply.
    public var text: String? {
        switch self {
        case .string(let text), .status(let text): return text
        default: return nil
        }
    }

    /// The text of a bulk string only.
    public var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// A RESP2 map reply (a flat key, value, … array) as pairs by key.
    public var fields: [String: HiredisReply]? {
        guard case .array(let items) = self, items.count % 2 == 0 else { return nil }
        var fields: [String: HiredisReply] = [:]
        for index in stride(from: 0, to: items.count, by: 2) {
            guard let key = items[index].text else { return nil }
            fields[key] = items[index + 1]
        }
        return fields
    }

    /// As `redis-cli` prints it, on one line.
    public var description: String {
        switch self {
        case .string(let text): return "\"\(text)\""
        case .status(let text): return text
        case .error(let text): return "(error) \(text)"
        case .integer(let value): return "(integer) \(value)"
        case .null: return "(nil)"
        case .array(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .unsupported(let type): return "(reply of type \(type))"
        }
    }
}
