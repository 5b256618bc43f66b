/// Why an invalidation source cannot work on a server, said so that an operator can act.
package enum InvalidationSetupError: Error, CustomStringConvertible, Equatable {
    case walLevel(address: String, found: String)
    case noReplicationRole(address: String, role: String)
    case migrationMissing(address: String)
    case notifyMigrationMissing(address: String)
    case sourceSwitchedOff(source: InvalidationSource, address: String)
    case noFreeSlot(address: String)
    case noFreeWalSender(address: String)
    case slotOfAnotherDatabase(slot: String, database: String)
    case slotInUse(slot: String, pid: String)
    case noSource(address: String, stream: String, notify: String)

    package var description: String {
        switch self {
        case let .walLevel(address, found):
            return "PostgreSQL at \(address) has wal_level = \(found); the wal invalidation source needs wal_level = logical "
                + "(set it in postgresql.conf and restart PostgreSQL), or use invalidation.source = notify"
        case let .noReplicationRole(address, role):
            return "role \(role) at \(address) may not replicate; the wal invalidation source needs a role with REPLICATION "
                + "(ALTER ROLE \(role) REPLICATION), or use invalidation.source = notify"
        case let .migrationMissing(address):
            return "the publication quicksell_invalidation is missing at \(address): apply the migrations "
                + "(quicksell-cache migrate) up to 008_invalidation_stream.sql"
        case let .notifyMigrationMissing(address):
            return "the notify invalidation triggers are missing at \(address): apply the migrations "
                + "(quicksell-cache migrate) up to 009_invalidation_notify.sql"
        case let .sourceSwitchedOff(source, address):
            return "the triggers at \(address) do not feed the \(source) invalidation source: switch it on with "
                + "quicksell-cache migrate --invalidation-sources wal,notify"
        case let .noFreeSlot(address):
            return "PostgreSQL at \(address) has no free replication slot (max_replication_slots); drop an unused slot "
                + "or raise the setting, or use invalidation.source = notify"
        case let .noFreeWalSender(address):
            return "PostgreSQL at \(address) has no free WAL sender (max_wal_senders); raise the setting, "
                + "or use invalidation.source = notify"
        case let .slotOfAnotherDatabase(slot, database):
            return "replication slot \(slot) belongs to database \(database); give this gateway a slot of its own "
                + "(invalidation.replication_slot)"
        case let .slotInUse(slot, pid):
            return "replication slot \(slot) is streaming to another connection (PostgreSQL pid \(pid)); every gateway "
                + "needs its own invalidation.replication_slot"
        case let .noSource(address, stream, notify):
            return "no invalidation source works at \(address): wal: \(stream); notify: \(notify)"
        }
    }

    /// The cause alone, for the one-line choice of `auto`.
    package var shortReason: String {
        switch self {
        case let .walLevel(_, found): return "wal_level = \(found)"
        case let .noReplicationRole(_, role): return "role \(role) has no REPLICATION"
        case .migrationMissing: return "migration 008 is not applied"
        case .notifyMigrationMissing: return "migration 009 is not applied"
        case let .sourceSwitchedOff(source, _): return "the triggers do not feed \(source)"
        case .noFreeSlot: return "no free replication slot"
        case .noFreeWalSender: return "no free WAL sender"
        case .slotOfAnotherDatabase, .slotInUse, .noSource: return description
        }
    }
}
