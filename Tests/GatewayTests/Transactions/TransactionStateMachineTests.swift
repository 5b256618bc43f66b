import CacheModel
@testable import Gateway
@testable import ReadThrough
import RESP
import Testing

/// The transaction decisions without sockets: Redis 7's replies and their order.
struct TransactionStateMachineTests {
    private let get = RESPRequest("GET", "user:1")
    private let mark = InvalidationEpochs.Mark(bucket: 1, bucketEpoch: 0, familyEpoch: 0, globalEpoch: 0, family: .user)

    @Test func queuesAndExecutesInOrder() {
        var machine = TransactionStateMachine()
        let result1 = machine.multi()
        #expect(result1 == .simpleString("OK"))
        let result2 = machine.queue(get)
        #expect(result2 == .simpleString("QUEUED"))
        let result3 = machine.queue(RESPRequest("MGET", "a", "b"))
        #expect(result3 == .simpleString("QUEUED"))
        let result4 = machine.exec { true }
        #expect(result4 == .execute([get, RESPRequest("MGET", "a", "b")]))
        #expect(!machine.isQueuing)
        let result5 = machine.exec { true }
        #expect(result5 == .reply(.error("ERR EXEC without MULTI")))
    }

    @Test func emptyTransactionExecutesNothing() {
        var machine = TransactionStateMachine()
        _ = machine.multi()
        let result6 = machine.exec { true }
        #expect(result6 == .execute([]))
    }

    @Test func nestedMultiIsRefusedWithoutFailingTheTransaction() {
        var machine = TransactionStateMachine()
        _ = machine.multi()
        let result7 = machine.multi()
        #expect(result7 == .error("ERR MULTI calls can not be nested"))
        _ = machine.queue(get)
        let result8 = machine.exec { true }
        #expect(result8 == .execute([get]))
    }

    @Test func aQueueTimeErrorMakesExecAbort() {
        var machine = TransactionStateMachine()
        _ = machine.multi()
        let unknown = RESPValue.error("ERR unknown command 'NOSUCH', with args beginning with: ")
        let result9 = machine.refused(unknown, command: "nosuch")
        #expect(result9 == unknown)
        _ = machine.queue(get)
        let result10 = machine.exec { true }
        #expect(result10 == .reply(.error("EXECABORT Transaction discarded because of previous errors.")))
        #expect(!machine.isQueuing)
    }

    @Test func anErrorOutsideMultiChangesNothing() {
        var machine = TransactionStateMachine()
        let result11 = machine.refused(.error("ERR x"), command: "get")
        #expect(result11 == .error("ERR x"))
        _ = machine.multi()
        let result12 = machine.exec { true }
        #expect(result12 == .execute([]))
    }

    @Test func execRefusedAbortsWithTheReasonInRedisWords() {
        var machine = TransactionStateMachine()
        _ = machine.multi()
        _ = machine.queue(get)
        let result13 = machine.refused(.error("ERR wrong number of arguments for 'exec' command"), command: "exec")
        #expect(result13
            == .error("EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command"))
        #expect(!machine.isQueuing)
        let result14 = machine.refused(.error("NOAUTH Authentication required."), command: "exec")
        #expect(result14
            == .error("EXECABORT Transaction discarded because of: NOAUTH Authentication required."))
    }

    @Test func discardDropsTheQueueAndTheWatches() {
        var machine = TransactionStateMachine()
        let result15 = machine.discard()
        #expect(result15 == .error("ERR DISCARD without MULTI"))
        _ = machine.watch([mark])
        _ = machine.multi()
        _ = machine.queue(get)
        let result16 = machine.discard()
        #expect(result16 == .simpleString("OK"))
        #expect(machine.watches.isEmpty)
        _ = machine.multi()
        let result18 = machine.exec { Issue.record("no watches: nothing to check"); return false }
        #expect(result18 == .execute([]))
    }

    @Test func watchInsideMultiIsRefused() {
        var machine = TransactionStateMachine()
        _ = machine.multi()
        let result19 = machine.watch([mark])
        #expect(result19 == .error("ERR WATCH inside MULTI is not allowed"))
        #expect(machine.watches.isEmpty)
        let result20 = machine.exec { true }
        #expect(result20 == .execute([]))
    }

    @Test func anInvalidatedWatchAbortsWithANullArray() {
        var machine = TransactionStateMachine()
        let result22 = machine.watch([mark])
        #expect(result22 == .simpleString("OK"))
        _ = machine.multi()
        _ = machine.queue(get)
        let result23 = machine.exec { false }
        #expect(result23 == .reply(.nullArray))
        #expect(machine.watches.isEmpty)  // EXEC unwatches, aborted or not
    }

    @Test func queueErrorsWinOverWatches() {
        var machine = TransactionStateMachine()
        _ = machine.watch([mark])
        _ = machine.multi()
        _ = machine.refused(.error("ERR x"), command: "x")
        let result25 = machine.exec { false }
        #expect(result25 == .reply(.error("EXECABORT Transaction discarded because of previous errors.")))
    }

    @Test func unwatchForgetsTheWatches() {
        var machine = TransactionStateMachine()
        _ = machine.watch([mark])
        let result26 = machine.unwatch()
        #expect(result26 == .simpleString("OK"))
        _ = machine.multi()
        let result27 = machine.exec { false }
        #expect(result27 == .execute([]))
    }

    @Test func onlyTheTransactionCommandsQuitAndResetRunInsideMulti() {
        for name in ["multi", "exec", "discard", "watch", "quit", "reset"] {
            #expect(TransactionStateMachine.runsImmediately(name), "\(name)")
        }
        for name in ["get", "unwatch", "ping", "client", "hello"] {
            #expect(!TransactionStateMachine.runsImmediately(name), "\(name)")
        }
    }
}

/// `CLIENT REPLY`'s rules as Redis applies them, command by command.
struct ReplyModeTests {
    @Test func offSuppressesUntilOn() {
        var mode = ReplyMode()
        let result28 = mode.commandFinished()
        #expect(result28)
        mode.turnOff()
        let result29 = mode.commandFinished()
        #expect(!result29)  // CLIENT REPLY OFF itself
        let result30 = mode.commandFinished()
        #expect(!result30)
        mode.turnOn()
        let result31 = mode.commandFinished()
        #expect(result31)  // CLIENT REPLY ON answers OK
        let result32 = mode.commandFinished()
        #expect(result32)
    }

    @Test func skipSuppressesOnlyTheNextCommand() {
        var mode = ReplyMode()
        mode.skipNext()
        let result33 = mode.commandFinished()
        #expect(result33)  // CLIENT REPLY SKIP's own turn (it has nothing to answer)
        let result34 = mode.commandFinished()
        #expect(!result34)
        let result35 = mode.commandFinished()
        #expect(result35)
    }

    @Test func skipWhileOffIsIgnored() {
        var mode = ReplyMode()
        mode.turnOff()
        _ = mode.commandFinished()
        mode.skipNext()
        _ = mode.commandFinished()
        mode.turnOn()
        let result36 = mode.commandFinished()
        #expect(result36)
        let result37 = mode.commandFinished()
        #expect(result37)
    }
}

/// WATCH's counters: a mark stays valid until something covering its key moves.
struct InvalidationEpochsTests {
    private let key = CacheKey(family: .user, id: 1)
    private let otherFamilyKey = CacheKey(family: .listing, id: 1)

    @Test func keyInvalidationBreaksItsMark() {
        let epochs = InvalidationEpochs()
        let mark = epochs.mark(key)
        #expect(epochs.unchanged(since: [mark]))
        epochs.bump([key])
        #expect(!epochs.unchanged(since: [mark]))
        #expect(epochs.unchanged(since: [epochs.mark(key)]))
    }

    @Test func familyAndFullFlushesBreakMarks() {
        let epochs = InvalidationEpochs()
        let mark = epochs.mark(key)
        let other = epochs.mark(otherFamilyKey)
        epochs.bump(family: .user)
        #expect(!epochs.unchanged(since: [mark]))
        #expect(epochs.unchanged(since: [other]))
        epochs.bumpAll()
        #expect(!epochs.unchanged(since: [other]))
    }

    @Test func aNameOutsideTheFamiliesMovesOnlyWithAFullFlush() {
        let epochs = InvalidationEpochs()
        let mark = epochs.mark(nil)
        epochs.bump([key])
        epochs.bump(family: .user)
        #expect(epochs.unchanged(since: [mark]))
        epochs.bumpAll()
        #expect(!epochs.unchanged(since: [mark]))
    }
}
