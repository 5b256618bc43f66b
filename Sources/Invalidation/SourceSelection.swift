/// Which invalidation source a gateway runs, and why: a pure decision from the configured
/// source and the server's facts, so that every combination is a unit test.
package enum SourceSelection {
    package struct Choice: Sendable, Equatable {
        package let source: InvalidationSource
        /// One line for the log and `INFO invalidation`.
        package let reason: String
    }

    /// `requested` on a server described by `facts`; an error says what to change when the
    /// requested source cannot work there (never a source that would not invalidate).
    package static func choose(_ requested: InvalidationSource, facts: InvalidationServerFacts)
        -> Result<Choice, InvalidationSetupError>
    {
        let streamProblem = Self.streamProblem(facts)
        let notifyProblem = Self.notifyProblem(facts)
        switch requested {
        case .wal:
            if let streamProblem { return .failure(streamProblem) }
            return .success(Choice(source: .wal, reason: "configured (invalidation.source = wal)"))
        case .notify:
            if let notifyProblem { return .failure(notifyProblem) }
            return .success(Choice(source: .notify, reason: "configured (invalidation.source = notify)"))
        case .auto:
            if streamProblem == nil {
                return .success(Choice(source: .wal, reason: "auto: wal_level = logical, role \(facts.role) may replicate "
                    + "and a replication slot is available"))
            }
            if notifyProblem == nil, let streamProblem {
                return .success(Choice(source: .notify, reason: "auto: the stream is not possible here (\(streamProblem.shortReason))"))
            }
            if facts.emitters == nil, !facts.streamMigrated {
                // Not migrated yet: the notify listener reports it and retries until the
                // migrations are applied, as the stream's did (not ready meanwhile).
                return .success(Choice(source: .notify, reason: "auto: the database is not migrated yet "
                    + "(quicksell-cache migrate); listening once it is"))
            }
            return .failure(.noSource(address: facts.address, stream: streamProblem?.shortReason ?? "",
                                      notify: notifyProblem?.shortReason ?? ""))
        }
    }

    /// Used when PostgreSQL cannot be asked at start-up: notify works on every server (its
    /// listener checks the triggers once it connects); an explicit source is kept.
    package static func unreachable(_ requested: InvalidationSource, address: String, error: String) -> Choice {
        switch requested {
        case .auto:
            return Choice(source: .notify, reason: "auto: PostgreSQL at \(address) could not be asked at start-up "
                + "(\(error)); notify works on every server")
        case .wal, .notify:
            return Choice(source: requested, reason: "configured (invalidation.source = \(requested))")
        }
    }

    private static func streamProblem(_ facts: InvalidationServerFacts) -> InvalidationSetupError? {
        if facts.walLevel != "logical" { return .walLevel(address: facts.address, found: facts.walLevel) }
        if !facts.mayReplicate { return .noReplicationRole(address: facts.address, role: facts.role) }
        if !facts.streamMigrated { return .migrationMissing(address: facts.address) }
        if !facts.streamFed { return .sourceSwitchedOff(source: .wal, address: facts.address) }
        if !facts.slotAvailable { return .noFreeSlot(address: facts.address) }
        if !facts.walSenderAvailable { return .noFreeWalSender(address: facts.address) }
        return nil
    }

    private static func notifyProblem(_ facts: InvalidationServerFacts) -> InvalidationSetupError? {
        guard facts.emitters != nil else { return .notifyMigrationMissing(address: facts.address) }
        return facts.notifyFed ? nil : .sourceSwitchedOff(source: .notify, address: facts.address)
    }
}
