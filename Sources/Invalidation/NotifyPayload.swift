import CacheModel

/// One notification of migration 009's triggers: `<xid8>|<unix µs>|<key>,<key>,…`, or
/// `<xid8>|<unix µs>|*<family>,…` when a statement's keys did not fit one payload. Pure, so
/// that every form (and every malformed one) is a unit test.
package enum NotifyPayload: Equatable, Sendable {
    /// These keys were written by the transaction.
    case keys(InvalidationWrite)
    /// Keys of these families were written, too many to list.
    case families(Set<KeyFamily>, transactionID: String)

    /// The channel the triggers notify.
    package static let channel = "quicksell_invalidation"

    /// Parses a payload; nil when it is not of the form above.
    package static func parse(_ payload: String) -> NotifyPayload? {
        let parts = payload.split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, isNumber(parts[0]), isNumber(parts[1]), let stamp = Int64(parts[1]), !parts[2].isEmpty else {
            return nil
        }
        let transactionID = String(parts[0])
        let list = parts[2]
        if list.first == "*" {
            var families: Set<KeyFamily> = []
            for name in list.dropFirst().split(separator: ",") {
                guard let family = KeyFamily(rawValue: String(name)) else { return nil }
                families.insert(family)
            }
            return families.isEmpty ? nil : .families(families, transactionID: transactionID)
        }
        let keys = list.split(separator: ",").map(String.init)
        return .keys(InvalidationWrite(keys: keys, transactionID: transactionID, committedMicroseconds: stamp))
    }

    private static func isNumber(_ text: Substring) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }
}
