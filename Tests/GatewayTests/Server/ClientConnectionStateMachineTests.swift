import NIOCore
import RESP
import Testing

@testable import Gateway

/// The awaited GETs are plain numbers here: the machine only keeps them for the handler.
private typealias Machine = ClientConnectionStateMachine<Int>

extension ClientConnectionStateMachine {
    /// Marks `sequence` ready and writes what is then writable in order: the replies written
    /// and what follows. Throws when the machine ignored the reply.
    fileprivate mutating func complete(
        _ sequence: Int, with reply: RESPValue
    ) throws -> (written: [RESPValue], after: AfterReplies) {
        guard replyReady(reply, sequence: sequence) == .writeInOrder else {
            throw ReplyIgnored(sequence: sequence)
        }
        var written: [RESPValue] = []
        while true {
            switch nextInOrder() {
            case .write(let reply): written.append(reply)
            case .done(let after): return (written, after)
            }
        }
    }
}

private struct ReplyIgnored: Error {
    let sequence: Int
}

private let pong = RESPValue.simpleString("PONG")
private let ok = RESPValue.simpleString("OK")

private func bulk(_ text: String) -> RESPValue { .bulkString(ByteBuffer(string: text)) }

@Suite struct ClientConnectionStateMachineTests {
    /// A tracking push waits for the replies owed when it arrived: a value read before the
    /// invalidation never follows its push.
    @Test func aPushFollowsTheRepliesOwedWhenItArrived() throws {
        var m = Machine(maxPendingReplies: 8)
        let push = RESPValue.push([bulk("invalidate"), .array([bulk("user:1")])])
        #expect(m.pushArrived(push) == .write(push))
        let get = m.replyAwaitingBackend(1)
        #expect(m.pushArrived(push) == .none)
        #expect(m.backendReplied(sequence: get) == 1)
        #expect(try m.complete(get, with: bulk("old")).written == [bulk("old"), push])
    }

    @Test func repliesProducedAtOnceAreWrittenAtOnce() {
        var m = Machine(maxPendingReplies: 8)
        #expect(m.requestAnswered(pong, thenClose: false) == .write(pong))
        #expect(m.requestAnswered(bulk("a"), thenClose: false) == .write(bulk("a")))
        #expect(m.pendingReplyCount == 0)
        #expect(m.acceptsRequests)
    }

    @Test func repliesKeepRequestOrderWhenBackendsAnswerOutOfOrder() throws {
        var m = Machine(maxPendingReplies: 8)
        let first = m.replyDeferred()
        #expect(m.requestAnswered(bulk("b"), thenClose: false) == .none)  // behind `first`
        let third = m.replyAwaitingBackend(42)
        let fourth = m.replyDeferred()
        #expect([first, third, fourth] == [0, 2, 3])
        #expect(m.pendingReplyCount == 4)

        // The last one answers first: nothing can be written yet.
        let early = try m.complete(fourth, with: bulk("d"))
        #expect(early.written.isEmpty)
        #expect(early.after == .init(output: .scheduleFlush, resumeReading: false))

        // Redis answers the GET: the machine hands it back once, then it waits for its value.
        #expect(m.backendReplied(sequence: third) == 42)
        #expect(m.backendReplied(sequence: third) == nil)
        let middle = try m.complete(third, with: bulk("c"))
        #expect(middle.written.isEmpty)
        #expect(middle.after.output == .none, "one flush per tick is scheduled already")

        // The oldest one answers: everything goes out, in request order.
        let last = try m.complete(first, with: bulk("a"))
        #expect(last.written == [bulk("a"), bulk("b"), bulk("c"), bulk("d")])
        #expect(m.pendingReplyCount == 0)
        // The next reply owed is written at once again.
        #expect(m.requestAnswered(pong, thenClose: false) == .write(pong))
    }

    @Test func aScheduledFlushIsAskedForOncePerTick() throws {
        var m = Machine(maxPendingReplies: 8)
        let first = m.replyDeferred()
        let second = m.replyDeferred()
        let firstOut = try m.complete(first, with: bulk("a"))
        #expect(firstOut.after.output == .scheduleFlush)
        let secondOut = try m.complete(second, with: bulk("b"))
        #expect(secondOut.after.output == .none)
        m.scheduledFlushRan()
        let third = m.replyDeferred()
        let thirdOut = try m.complete(third, with: bulk("c"))
        #expect(thirdOut.after.output == .scheduleFlush)
    }

    @Test func repliesForUnknownSequencesAreIgnored() throws {
        var m = Machine(maxPendingReplies: 8)
        let only = m.replyDeferred()
        let out = try m.complete(only, with: bulk("a"))
        #expect(out.written == [bulk("a")])
        #expect(m.replyReady(bulk("again"), sequence: only) == .ignore)
        #expect(m.replyReady(bulk("future"), sequence: only + 5) == .ignore)
        #expect(m.backendReplied(sequence: only) == nil)
        #expect(m.backendReplied(sequence: -1) == nil)
    }

    @Test func readingStopsAtTheLimitOfPendingRepliesAndResumesBelowIt() throws {
        var m = Machine(maxPendingReplies: 2)
        #expect(m.readRequested() == .read)
        let first = m.replyDeferred()
        #expect(m.readRequested() == .read)
        let second = m.replyAwaitingBackend(7)
        #expect(m.readRequested() == .hold)

        // A later reply ready does not free a place: its earlier one still holds it back.
        let waiting = try m.complete(second, with: bulk("b"))
        #expect(!waiting.after.resumeReading)
        #expect(m.readRequested() == .hold)

        let done = try m.complete(first, with: bulk("a"))
        #expect(done.written == [bulk("a"), bulk("b")])
        #expect(done.after.resumeReading)
        #expect(m.readRequested() == .read)
    }

    @Test func readingStopsWhileTheChannelIsUnwritable() throws {
        var m = Machine(maxPendingReplies: 2)
        #expect(m.writabilityChanged(isWritable: false) == false, "no read was held")
        #expect(m.readRequested() == .hold)
        #expect(m.writabilityChanged(isWritable: true) == true, "the held read goes on")
        #expect(m.writabilityChanged(isWritable: true) == false, "and only once")
        #expect(m.readRequested() == .read)

        // Both conditions must hold to resume: writable, and below the limit.
        let first = m.replyDeferred()
        let second = m.replyDeferred()
        _ = m.writabilityChanged(isWritable: false)
        #expect(m.readRequested() == .hold)
        #expect(m.writabilityChanged(isWritable: true) == false, "still at the limit")
        let blocked = try m.complete(second, with: bulk("b"))
        #expect(!blocked.after.resumeReading)
        let freed = try m.complete(first, with: bulk("a"))
        #expect(freed.after.resumeReading)
    }

    @Test func quitWithNothingOwedIsWrittenThenClosed() {
        var m = Machine(maxPendingReplies: 8)
        #expect(m.requestAnswered(ok, thenClose: true) == .writeThenCloseAfterPendingWrites(ok))
        #expect(m.state == .closingAfterWrites)
        #expect(!m.acceptsRequests)
        #expect(m.readRequested() == .hold)
    }

    @Test func quitClosesAfterTheEarlierRepliesAndOnlyOnce() throws {
        var m = Machine(maxPendingReplies: 8)
        let first = m.replyDeferred()
        #expect(m.requestAnswered(ok, thenClose: true) == .none)
        #expect(m.state == .closing)
        #expect(!m.acceptsRequests, "requests after QUIT are not run")
        #expect(m.readRequested() == .hold)

        let out = try m.complete(first, with: bulk("a"))
        #expect(out.written == [bulk("a"), ok])
        #expect(out.after == .init(output: .closeAfterPendingWrites, resumeReading: false))
        #expect(m.state == .closingAfterWrites)
        // A drain now does not ask for a second close.
        #expect(m.drainRequested() == .none)

        #expect(m.pendingWritesCompleted(channelIsActive: true) == .closeOutputAndLinger)
        #expect(m.pendingWritesCompleted(channelIsActive: true) == .none)
    }

    @Test func aProtocolErrorIsAnsweredThenClosed() {
        var m = Machine(maxPendingReplies: 8)
        let error = RESPValue.error("ERR Protocol error: invalid bulk length")
        #expect(m.protocolErrorOccurred(error) == .writeThenCloseAfterPendingWrites(error))
        #expect(!m.acceptsRequests)
        #expect(m.protocolErrorOccurred(error) == .none, "a closing connection answers no more garbage")
    }

    @Test func aProtocolErrorWaitsForTheRepliesOwedBeforeIt() throws {
        var m = Machine(maxPendingReplies: 8)
        let first = m.replyDeferred()
        let error = RESPValue.error("ERR Protocol error: invalid multibulk length")
        #expect(m.protocolErrorOccurred(error) == .none)
        let out = try m.complete(first, with: bulk("a"))
        #expect(out.written == [bulk("a"), error])
        #expect(out.after.output == .closeAfterPendingWrites)
    }

    @Test func drainWithNothingOwedClosesAtOnce() {
        var m = Machine(maxPendingReplies: 8)
        #expect(m.drainRequested() == .closeAfterPendingWrites)
        #expect(!m.acceptsRequests)
        #expect(m.drainRequested() == .none, "asked once")
    }

    @Test func drainAnswersThePendingRepliesThenCloses() throws {
        var m = Machine(maxPendingReplies: 8)
        let first = m.replyDeferred()
        let second = m.replyAwaitingBackend(1)
        #expect(m.drainRequested() == .none)
        #expect(m.state == .closing)
        #expect(!m.acceptsRequests)
        #expect(m.readRequested() == .hold)

        let notYet = try m.complete(second, with: bulk("b"))
        #expect(notYet.after == .init(output: .scheduleFlush, resumeReading: false))
        let last = try m.complete(first, with: bulk("a"))
        #expect(last.written == [bulk("a"), bulk("b")])
        #expect(last.after == .init(output: .closeAfterPendingWrites, resumeReading: false))
    }

    @Test func aClosedChannelIsNotClosedAfterItsReplies() throws {
        var m = Machine(maxPendingReplies: 8)
        let first = m.replyDeferred()
        #expect(m.drainRequested() == .none)
        m.channelInactive()
        let out = try m.complete(first, with: bulk("a"))
        #expect(out.after.output == .scheduleFlush)
        #expect(m.state == .closing)
    }

    @Test func lingeringReadsAndDropsInputWhateverTheBackPressure() {
        var m = Machine(maxPendingReplies: 1)
        #expect(m.requestAnswered(ok, thenClose: true) == .writeThenCloseAfterPendingWrites(ok))
        #expect(!m.discardsInput, "input is kept until the replies reached the socket")
        #expect(m.pendingWritesCompleted(channelIsActive: true) == .closeOutputAndLinger)
        #expect(m.state == .lingering)
        #expect(m.discardsInput)
        #expect(!m.acceptsRequests)
        _ = m.writabilityChanged(isWritable: false)
        #expect(m.readRequested() == .read)
        #expect(m.drainRequested() == .none, "already on its way out")
    }

    @Test func noLingerWhenTheChannelClosedFirst() {
        var m = Machine(maxPendingReplies: 8)
        #expect(m.drainRequested() == .closeAfterPendingWrites)
        #expect(m.pendingWritesCompleted(channelIsActive: false) == .none)
        #expect(!m.discardsInput)
    }
}
