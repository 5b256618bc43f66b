import CacheModel

/// Families whose every key is dropped instead of the keys one by one: a transaction that
/// wrote more keys than `invalidation.flush_families_above_keys` (wal), or a statement whose
/// keys did not fit one notification (notify). Its cost grows with what Redis holds, not with
/// the write, so a write of any size is invalidated in bounded time.
package struct FamilyFlush: Equatable, Sendable {
    package var families: Set<KeyFamily>
    /// The writing transactions (`xid8`): a fill whose snapshot does not see them must not
    /// store what it read. Empty when unknown (a malformed notification): every fill in
    /// flight is then kept from storing.
    package var transactionIDs: Set<String>

    package init(families: Set<KeyFamily> = [], transactionIDs: Set<String> = []) {
        self.families = families
        self.transactionIDs = transactionIDs
    }

    package var isEmpty: Bool { families.isEmpty }

    /// Adds another write's families; `transactionID` nil when it is unknown.
    package mutating func add(_ families: Set<KeyFamily>, transactionID: String?) {
        self.families.formUnion(families)
        if let transactionID { transactionIDs.insert(transactionID) } else { writersUnknown = true }
    }

    /// Some write of this flush had no readable transaction id.
    package private(set) var writersUnknown = false

    /// The flushes of both, as one.
    package mutating func merge(_ other: FamilyFlush) {
        families.formUnion(other.families)
        transactionIDs.formUnion(other.transactionIDs)
        writersUnknown = writersUnknown || other.writersUnknown
    }
}
