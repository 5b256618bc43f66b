import Postgres

/// Turns the pgoutput records of the replication stream into committed invalidation
/// writes. The triggers of migration 008 write one transactional message per row (or per
/// 500 keys of a statement) with the prefix `quicksell_invalidation` and the content
/// `<xid8>|<key>,<key>,…`; PostgreSQL sends a transaction's messages between its BEGIN and
/// COMMIT records, and only once it committed. Pure, so it is unit-tested.
package struct InvalidationTransactions {
    package static let messagePrefix = "quicksell_invalidation"

    /// What a COMMIT (or a message outside any transaction) completed.
    package struct Completed: Equatable {
        let writes: [InvalidationWrite]
        /// The position to confirm once `writes` are applied (nil outside a transaction).
        let endLSN: UInt64?
    }

    private var openTransaction: (committedMicroseconds: Int64, writes: [InvalidationWrite])?
    /// Messages with our prefix whose content could not be read (logged by the listener).
    private(set) var malformed: [String] = []

    /// True between a BEGIN and its COMMIT.
    package var inTransaction: Bool { openTransaction != nil }

    package mutating func receive(_ message: PgOutputMessage) -> Completed? {
        switch message {
        case .begin(_, let commitTime, _):
            openTransaction = (commitTime + ReplicationMessage.postgresEpochOffsetMicroseconds, [])
            return nil
        case .message(let transactional, _, let prefix, let content):
            guard prefix == Self.messagePrefix else { return nil }
            let committed = openTransaction?.committedMicroseconds
            guard let write = Self.parse(content, committedMicroseconds: committed) else {
                malformed.append(String(decoding: content.prefix(200), as: UTF8.self))
                return nil
            }
            if transactional, var open = openTransaction {
                openTransaction = nil  // keeps the array uniquely referenced while appending
                open.writes.append(write)
                openTransaction = open
                return nil
            }
            return Completed(writes: [write], endLSN: nil)
        case .commit(_, let endLSN, _):
            defer { openTransaction = nil }
            return Completed(writes: openTransaction?.writes ?? [], endLSN: endLSN)
        case .other:
            return nil
        }
    }

    /// Takes the malformed contents seen so far (for the log).
    package mutating func takeMalformed() -> [String] {
        defer { malformed.removeAll() }
        return malformed
    }

    /// `<xid8>|key,key,…` → the write; nil when the transaction id is not a number.
    package static func parse(_ content: [UInt8], committedMicroseconds: Int64?) -> InvalidationWrite? {
        guard let bar = content.firstIndex(of: UInt8(ascii: "|")) else { return nil }
        let xid = content[..<bar]
        guard !xid.isEmpty, xid.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        let keys = content[(bar + 1)...].split(separator: UInt8(ascii: ","))
            .map { String(decoding: $0, as: UTF8.self) }
        return InvalidationWrite(keys: keys, transactionID: String(decoding: xid, as: UTF8.self),
                                 committedMicroseconds: committedMicroseconds)
    }
}
