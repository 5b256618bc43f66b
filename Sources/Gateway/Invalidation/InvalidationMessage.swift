/// One notification of the `quicksell_invalidation` channel:
/// `<first id>-<last id>@<trigger µs>#<xid>[|key,key,…]` (see migration 006).
struct InvalidationMessage: Equatable, Sendable {
    /// Outbox rows holding the keys (read them when `keys` is nil).
    let firstID: Int64
    let lastID: Int64
    /// When the trigger ran, in microseconds since the epoch (for the lag).
    let triggerMicroseconds: Int64
    /// The writing transaction's id.
    let transactionID: String
    /// The keys, when they fit in the payload.
    let keys: [String]?

    init?(payload: String) {
        let (head, keyList) = Self.split(payload, at: "|")
        let (range, rest) = Self.split(head, at: "@")
        let (micros, xid) = Self.split(rest ?? "", at: "#")
        let (first, last) = Self.split(range, at: "-")
        guard let firstID = Int64(first), let lastID = last.flatMap({ Int64($0) }),
              let triggerMicroseconds = Int64(micros), let xid, !xid.isEmpty, xid.allSatisfy(\.isNumber)
        else { return nil }
        self.firstID = firstID
        self.lastID = lastID
        self.triggerMicroseconds = triggerMicroseconds
        self.transactionID = xid
        self.keys = keyList.map { $0.split(separator: ",").map(String.init) }
    }

    private static func split(_ text: String, at separator: Character) -> (String, String?) {
        guard let index = text.firstIndex(of: separator) else { return (text, nil) }
        return (String(text[..<index]), String(text[text.index(after: index)...]))
    }
}
