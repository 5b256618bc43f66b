import CacheModel
import Postgres

/// Turns the pgoutput records of the replication stream into committed invalidation
/// writes. The triggers of migration 008 write one transactional message per row (or per
/// 500 keys of a statement) with the prefix `quicksell_invalidation` and the content
/// `<xid8>|<key>,<key>,…`; PostgreSQL sends a transaction's messages between its BEGIN and
/// COMMIT records, and only once it committed. Pure, so it is unit-tested.
///
/// A transaction that wrote more than `flushAboveKeys` keys becomes a flush of their families:
/// from then on only its families are kept, so neither the listener's memory nor the time to
/// invalidate it grows with the size of the write.
package struct InvalidationTransactions {
    package static let messagePrefix = "quicksell_invalidation"

    /// What a COMMIT (or a message outside any transaction) completed.
    package struct Completed: Equatable {
        let writes: [InvalidationWrite]
        /// The position to confirm once `writes` are applied (nil outside a transaction).
        let endLSN: UInt64?
        /// The transaction wrote too many keys to list: drop these families instead (`writes` is empty).
        var flush: FamilyFlush? = nil
    }

    private struct Open {
        let committedMicroseconds: Int64
        var writes: [InvalidationWrite] = []
        var keys = 0
        var messages = 0
        var flush: FamilyFlush?
        /// The transaction id of the message last added to `flush` (they are all the same).
        var lastTransaction: ArraySlice<UInt8> = []
    }

    private var openTransaction: Open?
    /// Keys of one transaction beyond which it is flushed by family.
    private let flushAboveKeys: Int

    package init(flushAboveKeys: Int = InvalidationSettings.defaultFlushFamiliesAboveKeys) {
        self.flushAboveKeys = flushAboveKeys
    }
    /// Messages with our prefix whose content could not be read (logged by the listener).
    private(set) var malformed: [String] = []
    /// Well-formed messages of the transactions completed since the last `takeCompletedMessages`.
    private var completedMessages = 0

    /// True between a BEGIN and its COMMIT.
    package var inTransaction: Bool { openTransaction != nil }

    package mutating func receive(_ message: PgOutputMessage) -> Completed? {
        switch message {
        case .begin(_, let commitTime, _):
            openTransaction = Open(committedMicroseconds: commitTime + ReplicationMessage.postgresEpochOffsetMicroseconds)
            return nil
        case .message(let transactional, _, let prefix, let content):
            guard prefix == Self.messagePrefix else { return nil }
            if transactional, var open = openTransaction, var flush = open.flush {
                // Past the threshold only the families count: read them from the bytes, no keys made.
                openTransaction = nil
                defer { openTransaction = open }
                guard Self.addFamilies(content, to: &flush, lastTransaction: &open.lastTransaction) else {
                    malformed.append(String(decoding: content.prefix(200), as: UTF8.self))
                    return nil
                }
                open.flush = flush
                open.messages += 1
                return nil
            }
            let committed = openTransaction?.committedMicroseconds
            guard let write = Self.parse(content, committedMicroseconds: committed) else {
                malformed.append(String(decoding: content.prefix(200), as: UTF8.self))
                return nil
            }
            if transactional, var open = openTransaction {
                openTransaction = nil  // keeps the array uniquely referenced while appending
                add(write, to: &open)
                open.messages += 1
                openTransaction = open
                return nil
            }
            completedMessages += 1
            return Completed(writes: [write], endLSN: nil)
        case .commit(_, let endLSN, _):
            defer { openTransaction = nil }
            completedMessages += openTransaction?.messages ?? 0
            return Completed(writes: openTransaction?.writes ?? [], endLSN: endLSN, flush: openTransaction?.flush)
        case .other:
            return nil
        }
    }

    /// Keeps the write, or only its families once the transaction passed `flushAboveKeys`.
    private func add(_ write: InvalidationWrite, to open: inout Open) {
        if open.flush == nil {
            open.writes.append(write)
            open.keys += write.keys.count
            guard open.keys > flushAboveKeys else { return }
            var flush = FamilyFlush()
            for kept in open.writes { flush.add(Self.families(of: kept.keys), transactionID: kept.transactionID) }
            open.writes = []
            open.flush = flush
        } else {
            open.flush?.add(Self.families(of: write.keys), transactionID: write.transactionID)
        }
    }

    /// `<xid8>|key,key,…` → the keys' families into `flush` (a key of no family is skipped, as
    /// the invalidator skips it); false when the transaction id is not a number. Plain loops over
    /// the bytes: a bulk transaction brings hundreds of thousands of these.
    private static func addFamilies(_ content: [UInt8], to flush: inout FamilyFlush,
                                    lastTransaction: inout ArraySlice<UInt8>) -> Bool {
        guard let bar = content.firstIndex(of: UInt8(ascii: "|")), bar > 0 else { return false }
        let xid = content[..<bar]
        for digit in xid where digit < UInt8(ascii: "0") || digit > UInt8(ascii: "9") { return false }
        if xid != lastTransaction {
            flush.add([], transactionID: String(decoding: xid, as: UTF8.self))
            lastTransaction = xid
        }
        var found: Set<KeyFamily> = []
        content.withUnsafeBufferPointer { bytes in
            var start = bar + 1
            while start < bytes.count {
                var end = start
                var colon = -1
                while end < bytes.count && bytes[end] != UInt8(ascii: ",") {
                    if colon < 0 && bytes[end] == UInt8(ascii: ":") { colon = end }
                    end += 1
                }
                if let family = familyOf(bytes, start: start, colon: colon, end: end) { found.insert(family) }
                start = end + 1
            }
        }
        if !found.isSubset(of: flush.families) { flush.families.formUnion(found) }
        return true
    }

    /// The family of the key `bytes[start..<end]` whose first colon is at `colon` (-1: none):
    /// `listing:7` → `.listing`, `leaderboard:weekly` → `.leaderboardWeekly`.
    private static func familyOf(_ bytes: UnsafeBufferPointer<UInt8>, start: Int, colon: Int, end: Int) -> KeyFamily? {
        guard colon > start else { return nil }
        for (name, family) in familyNames {
            let length = family.hasID ? colon - start : end - start
            guard length == name.count else { continue }
            var same = true
            for offset in 0..<length where bytes[start + offset] != name[offset] {
                same = false
                break
            }
            if same { return family }
        }
        return nil
    }

    private static let familyNames: [([UInt8], KeyFamily)] = KeyFamily.allCases.map { (Array($0.rawValue.utf8), $0) }

    /// The families of the keys that parse (the invalidator ignores the others too).
    private static func families(of keys: [String]) -> Set<KeyFamily> {
        var families: Set<KeyFamily> = []
        for name in keys {
            if case .success(let key) = CacheKey.parse(name) { families.insert(key.family) }
        }
        return families
    }

    /// Takes the count of messages completed (committed) since the last call.
    package mutating func takeCompletedMessages() -> Int {
        defer { completedMessages = 0 }
        return completedMessages
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
