/// A reply from the gateway, reduced to what the CLI reads (RESP2 through hiredis).
enum GatewayReply: Equatable, Sendable {
    case string(String)
    case status(String)
    case error(String)
    case integer(Int64)
    case null
    case array([GatewayReply])

    var text: String? {
        switch self {
        case .string(let text), .status(let text): return text
        default: return nil
        }
    }

    /// A RESP2 map reply (a flat key, value, … array) as pairs by key.
    var fields: [String: GatewayReply]? {
        guard case .array(let items) = self, items.count % 2 == 0 else { return nil }
        var fields: [String: GatewayReply] = [:]
        for index in stride(from: 0, to: items.count, by: 2) {
            guard let key = items[index].text else { return nil }
            fields[key] = items[index + 1]
        }
        return fields
    }
}
