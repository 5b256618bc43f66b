@testable import Gateway
import Testing

/// The pure parts of the doorbell: reading PostgreSQL snapshots and what the listener does
/// with a notification.
@Suite struct DoorbellDecisionTests {
    @Test func snapshotSeesEndedTransactionsOnly() throws {
        let snapshot = try #require(SnapshotVisibility("100:105:101,103"))
        #expect(snapshot.sees(99))
        #expect(snapshot.sees(100))
        #expect(!snapshot.sees(101))
        #expect(snapshot.sees(102))
        #expect(!snapshot.sees(103))
        #expect(snapshot.sees(104))
        #expect(!snapshot.sees(105))
        #expect(!snapshot.sees(200))
        let empty = try #require(SnapshotVisibility("7:7:"))
        #expect(empty.sees(6) && !empty.sees(7))
    }

    @Test func malformedSnapshotsAreRefused() {
        for text in ["", "1:2", "a:2:", "5:2:", "1:9:3,x", "1:2:3:4"] {
            #expect(SnapshotVisibility(text) == nil, "accepted '\(text)'")
        }
    }

    @Test func aNotificationOfAWriteAlreadyReadIsSkipped() throws {
        let message = try #require(InvalidationMessage(payload: "5-5@1700000000000000#101|user:1"))
        #expect(DoorbellDecision.forNotification(message, seen: SnapshotVisibility("102:102:")) == .alreadyRead)
        #expect(DoorbellDecision.forNotification(message, seen: SnapshotVisibility("101:102:101"))
                == .applyKeys(["user:1"], rows: [5]))
        #expect(DoorbellDecision.forNotification(message, seen: SnapshotVisibility("100:102:101"))
                == .applyKeys(["user:1"], rows: [5]))
        #expect(DoorbellDecision.forNotification(message, seen: nil) == .applyKeys(["user:1"], rows: [5]))
    }

    @Test func keysOutsideThePayloadAreLeftToTheOutboxRead() throws {
        let bulk = try #require(InvalidationMessage(payload: "10-209@1700000000000000#300"))
        #expect(DoorbellDecision.forNotification(bulk, seen: SnapshotVisibility("300:300:")) == .readOutbox)
        // Several rows with inline keys: applied, but not left out of the next read (other
        // writers' rows may have ids inside the range), so the read applies them again.
        let two = try #require(InvalidationMessage(payload: "10-11@1700000000000000#300|listing:1,listing:2"))
        #expect(DoorbellDecision.forNotification(two, seen: nil) == .applyKeys(["listing:1", "listing:2"], rows: []))
    }
}

/// When a sleeping listener wakes up.
@Suite struct DoorbellWakeTests {
    @Test func aLoneNotificationWithItsKeysLetsTheListenerSleep() {
        #expect(!DoorbellDecision.shouldWake(ReceivedNotifications()))
        #expect(!DoorbellDecision.shouldWake(ReceivedNotifications(fresh: 1, needsOutbox: false)))
    }

    @Test func severalNotificationsOrKeysOnlyInTheOutboxWakeIt() {
        #expect(DoorbellDecision.shouldWake(ReceivedNotifications(fresh: 2, needsOutbox: false)))
        #expect(DoorbellDecision.shouldWake(ReceivedNotifications(fresh: 1, needsOutbox: true)))
    }
}
