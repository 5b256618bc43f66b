@testable import Invalidation
import Testing

/// Which source a gateway runs on which server, and what it says when the configured one cannot work.
@Suite struct SourceSelectionTests {
    private func facts(walLevel: String = "logical", mayReplicate: Bool = true, slot: Bool = true, sender: Bool = true,
                       stream: Bool = true, emitters: InvalidationServerFacts.Emitters? = .init(wal: true, notify: true))
        -> InvalidationServerFacts
    {
        InvalidationServerFacts(address: "db:5432/app", walLevel: walLevel, role: "app", mayReplicate: mayReplicate,
                                slotAvailable: slot, walSenderAvailable: sender, streamMigrated: stream, emitters: emitters)
    }

    @Test func autoStreamsWhereTheServerAllowsIt() throws {
        let choice = try SourceSelection.choose(.auto, facts: facts()).get()
        #expect(choice.source == .wal)
        #expect(choice.reason.contains("wal_level = logical"))
    }

    @Test(arguments: [
        (InvalidationServerFactsChange.walLevel, "wal_level = replica"),
        (.noReplication, "role app has no REPLICATION"),
        (.noSlot, "no free replication slot"),
        (.noSender, "no free WAL sender"),
        (.walSwitchedOff, "the triggers do not feed wal"),
    ])
    func autoListensForNotificationsWhereTheStreamIsNotPossibleAndSaysWhy(change: InvalidationServerFactsChange, why: String) throws {
        let choice = try SourceSelection.choose(.auto, facts: change.apply(facts())).get()
        #expect(choice.source == .notify)
        #expect(choice.reason.contains(why), "\(choice.reason)")
    }

    @Test func anExplicitWalOnAServerThatCannotStreamFailsWithTheReason() {
        let result = SourceSelection.choose(.wal, facts: facts(walLevel: "replica"))
        #expect(result == .failure(.walLevel(address: "db:5432/app", found: "replica")))
        guard case .failure(let error) = result else { return }
        #expect(error.description.contains("wal_level = logical") && error.description.contains("db:5432/app"))
        #expect(SourceSelection.choose(.wal, facts: facts(mayReplicate: false))
                == .failure(.noReplicationRole(address: "db:5432/app", role: "app")))
    }

    @Test func notifyNeedsMigration009AndItsTriggersSwitchedOn() throws {
        #expect(try SourceSelection.choose(.notify, facts: facts(walLevel: "replica", mayReplicate: false)).get().source == .notify)
        #expect(SourceSelection.choose(.notify, facts: facts(emitters: nil))
                == .failure(.notifyMigrationMissing(address: "db:5432/app")))
        #expect(SourceSelection.choose(.notify, facts: facts(emitters: .init(wal: true, notify: false)))
                == .failure(.sourceSwitchedOff(source: .notify, address: "db:5432/app")))
    }

    @Test func aDatabaseWithout009StillStreamsAndAutoFailsWhenNothingWorks() throws {
        #expect(try SourceSelection.choose(.auto, facts: facts(emitters: nil)).get().source == .wal)
        let nothing = SourceSelection.choose(.auto, facts: facts(walLevel: "replica", emitters: .init(wal: true, notify: false)))
        guard case .failure(let error) = nothing else {
            Issue.record("auto chose a source that cannot invalidate: \(nothing)")
            return
        }
        #expect(error.description.contains("wal: wal_level = replica") && error.description.contains("notify: the triggers do not feed notify"))
        // 008 applied but not 009, on a server that cannot stream: only the migration helps.
        #expect(SourceSelection.choose(.auto, facts: facts(walLevel: "replica", emitters: nil)).map(\.source)
                == .failure(.noSource(address: "db:5432/app", stream: "wal_level = replica", notify: "migration 009 is not applied")))
    }

    @Test func aDatabaseNotMigratedYetGetsTheNotifyListenerWhichRetriesUntilItIs() throws {
        let choice = try SourceSelection.choose(.auto, facts: facts(stream: false, emitters: nil)).get()
        #expect(choice.source == .notify)
        #expect(choice.reason.contains("not migrated yet"))
    }

    @Test func anUnreachableServerLeavesAutoOnNotifyAndKeepsAnExplicitSource() {
        #expect(SourceSelection.unreachable(.auto, address: "db", error: "refused").source == .notify)
        #expect(SourceSelection.unreachable(.wal, address: "db", error: "refused").source == .wal)
    }
}

/// One way a server differs from one that allows everything.
enum InvalidationServerFactsChange: Sendable {
    case walLevel, noReplication, noSlot, noSender, walSwitchedOff

    func apply(_ facts: InvalidationServerFacts) -> InvalidationServerFacts {
        var facts = facts
        switch self {
        case .walLevel: facts.walLevel = "replica"
        case .noReplication: facts.mayReplicate = false
        case .noSlot: facts.slotAvailable = false
        case .noSender: facts.walSenderAvailable = false
        case .walSwitchedOff: facts.emitters = .init(wal: false, notify: true)
        }
        return facts
    }
}
