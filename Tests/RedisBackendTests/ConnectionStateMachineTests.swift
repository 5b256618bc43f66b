import NIOCore
import RESP
import Testing

@testable import RedisBackend

private typealias Machine = ConnectionStateMachine<Int>

private func machine(
    authenticate: Bool = false, setName: Bool = false, maxPending: Int = 100,
    commandTimeout: TimeAmount = .milliseconds(100)
) -> Machine {
    Machine(
        settings: .init(
            address: "127.0.0.1:6390", commandTimeout: commandTimeout, backoffMin: .milliseconds(50),
            backoffMax: .seconds(2), maxPending: maxPending, authenticate: authenticate, setName: setName))
}

private let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)

/// A machine that went idle → connecting → ready.
private func readyMachine(maxPending: Int = 100) -> Machine {
    var m = machine(maxPending: maxPending)
    _ = m.connectRequested()
    _ = m.connected(now: t0)
    return m
}

extension ConnectionStateMachine.Action {
    var name: String {
        switch self {
        case .none: "none"
        case .connect: "connect"
        case .write: "write"
        case .queue: "queue"
        case .failCommand: "failCommand"
        case .sendHandshake: "sendHandshake"
        case .markReady: "markReady"
        case .succeed: "succeed"
        case .teardown: "teardown"
        }
    }

    var teardown: ConnectionStateMachine.Teardown? {
        if case .teardown(let t) = self { return t }
        return nil
    }
}

@Suite struct ConnectionStateMachineTests {
    @Test func firstSendConnectsAndLaterSendsQueue() {
        var m = machine()
        #expect(m.sendRequested(1, now: t0).name == "connect")
        #expect(m.state == .connecting)
        #expect(m.sendRequested(2, now: t0).name == "queue")
        #expect(m.connected(now: t0).name == "markReady")
        #expect(m.sendRequested(3, now: t0).name == "write")
        #expect(m.pendingCount == 3)
    }

    @Test func repliesCompleteCommandsInOrder() {
        var m = readyMachine()
        for token in 1...3 { #expect(m.sendRequested(token, now: t0).name == "write") }
        for expected in 1...3 {
            guard case .succeed(let token, let value) = m.replyReceived(.integer(Int64(expected))) else {
                Issue.record("expected succeed")
                return
            }
            #expect(token == expected)
            #expect(value == .integer(Int64(expected)))
        }
        #expect(m.pendingCount == 0)
    }

    @Test func errorReplyIsAnOrdinaryReply() {
        var m = readyMachine()
        _ = m.sendRequested(7, now: t0)
        guard case .succeed(7, .error) = m.replyReceived(.error("ERR nope")) else {
            Issue.record("an error reply must complete the command")
            return
        }
    }

    @Test func unexpectedReplyResetsTheConnection() throws {
        var m = readyMachine()
        let teardown = try #require(m.replyReceived(.simpleString("OK")).teardown)
        #expect(teardown.closeChannel)
        #expect(teardown.next == .reconnectNow)
    }

    @Test func losingAReadyConnectionFailsAllPendingAndReconnectsAtOnce() throws {
        var m = readyMachine()
        for token in 1...4 { _ = m.sendRequested(token, now: t0) }
        let teardown = try #require(m.connectionLost(reason: "reset", closeChannel: false).teardown)
        #expect(teardown.failing == [1, 2, 3, 4])
        #expect(teardown.error == .connectionClosed(address: "127.0.0.1:6390"))
        #expect(teardown.next == .reconnectNow)
        #expect(!teardown.closeChannel)
        #expect(m.state == .connecting)
        #expect(m.pendingCount == 0)
        // Commands sent while reconnecting wait for the new connection.
        #expect(m.sendRequested(5, now: t0).name == "queue")
    }

    @Test func connectFailuresBackOffWithDoublingCappedDelay() throws {
        var m = machine()
        _ = m.sendRequested(1, now: t0)
        var delays: [TimeAmount] = []
        for attempt in 0..<8 {
            let teardown = try #require(m.connectFailed(reason: "refused").teardown)
            if attempt == 0 { #expect(teardown.failing == [1]) }
            #expect(teardown.error == .connectionFailed(address: "127.0.0.1:6390", reason: "refused"))
            guard case .reconnectAfter(let delay) = teardown.next else {
                Issue.record("expected a delayed reconnect")
                return
            }
            delays.append(delay)
            #expect(m.backoffElapsed().name == "connect")
        }
        #expect(delays.map(\.nanoseconds) == [50, 100, 200, 400, 800, 1600, 2000, 2000].map { $0 * 1_000_000 })
        // A success resets the delay.
        _ = m.connected(now: t0)
        #expect(m.consecutiveFailures == 0)
    }

    @Test func sendsDuringBackoffFailFast() {
        var m = machine()
        _ = m.connectRequested()
        _ = m.connectFailed(reason: "refused")
        guard case .failCommand(9, .connectionFailed(let address, let reason)) = m.sendRequested(9, now: t0) else {
            Issue.record("expected connectionFailed")
            return
        }
        #expect(address == "127.0.0.1:6390")
        #expect(reason == "refused")
        #expect(m.pendingCount == 0)
        // A start-up check skips the wait.
        #expect(m.connectRequested().name == "connect")
    }

    @Test func tooManyPendingCommandsFailFast() {
        var m = readyMachine(maxPending: 2)
        _ = m.sendRequested(1, now: t0)
        _ = m.sendRequested(2, now: t0)
        guard case .failCommand(3, .overloaded) = m.sendRequested(3, now: t0) else {
            Issue.record("expected overloaded")
            return
        }
    }

    @Test func oldestCommandOlderThanTimeoutResetsTheConnection() throws {
        var m = readyMachine()
        _ = m.sendRequested(1, now: t0)
        _ = m.sendRequested(2, now: t0 + .milliseconds(80))
        #expect(m.timeoutCheck(now: t0 + .milliseconds(100)).name == "none")
        let teardown = try #require(m.timeoutCheck(now: t0 + .milliseconds(101)).teardown)
        #expect(teardown.failing == [1, 2])
        #expect(teardown.error == .timeout(address: "127.0.0.1:6390", after: .milliseconds(100)))
        #expect(teardown.closeChannel)
        #expect(teardown.next == .reconnectNow)
    }

    @Test func idleConnectionNeverTimesOut() {
        var m = readyMachine()
        #expect(m.timeoutCheck(now: t0 + .seconds(3600)).name == "none")
    }

    @Test func handshakeAuthenticatesThenNamesThenBecomesReady() {
        var m = machine(authenticate: true, setName: true)
        _ = m.sendRequested(1, now: t0)
        guard case .sendHandshake(auth: true, select: false, setName: true) = m.connected(now: t0) else {
            Issue.record("expected the handshake")
            return
        }
        #expect(m.sendRequested(2, now: t0).name == "queue")
        #expect(m.replyReceived(.simpleString("OK")).name == "none")
        // CLIENT SETNAME errors are ignored.
        #expect(m.replyReceived(.error("ERR unknown")).name == "markReady")
        guard case .succeed(1, _) = m.replyReceived(.bulkString("a")) else {
            Issue.record("the first queued command gets the first reply after the handshake")
            return
        }
    }

    @Test func failedAuthFailsQueuedCommandsAndBacksOff() throws {
        var m = machine(authenticate: true)
        _ = m.sendRequested(1, now: t0)
        _ = m.connected(now: t0)
        let teardown = try #require(m.replyReceived(.error("WRONGPASS invalid username-password pair")).teardown)
        #expect(teardown.failing == [1])
        #expect(
            teardown.error
                == .authenticationFailed(address: "127.0.0.1:6390", reason: "WRONGPASS invalid username-password pair"))
        #expect(teardown.closeChannel)
        #expect(teardown.next == .reconnectAfter(.milliseconds(50)))
        guard case .failCommand(2, .authenticationFailed) = m.sendRequested(2, now: t0) else {
            Issue.record("sends during the backoff report the authentication failure")
            return
        }
    }

    @Test func stuckHandshakeTimesOut() throws {
        var m = machine(authenticate: true)
        _ = m.connectRequested()
        _ = m.connected(now: t0)
        #expect(m.timeoutCheck(now: t0 + .milliseconds(50)).name == "none")
        let teardown = try #require(m.timeoutCheck(now: t0 + .milliseconds(150)).teardown)
        #expect(teardown.closeChannel)
        #expect(teardown.next == .reconnectAfter(.milliseconds(50)))
    }

    @Test func shutdownFailsEverythingAndIsFinal() throws {
        var m = readyMachine()
        _ = m.sendRequested(1, now: t0)
        let teardown = try #require(m.shutdownRequested().teardown)
        #expect(teardown.failing == [1])
        #expect(teardown.error == .shutDown)
        #expect(teardown.next == .stop)
        #expect(m.state == .shutDown)
        guard case .failCommand(2, .shutDown) = m.sendRequested(2, now: t0) else {
            Issue.record("expected shutDown")
            return
        }
        #expect(m.connectRequested().name == "none")
        #expect(m.backoffElapsed().name == "none")
        // A connection that completes after shutdown is dropped.
        #expect(m.connected(now: t0).teardown?.closeChannel == true)
    }

    @Test func lateEventsInOtherStatesAreIgnored() {
        var m = machine()
        #expect(m.replyReceived(.integer(1)).name == "none")
        #expect(m.connectionLost(reason: "x", closeChannel: false).name == "none")
        #expect(m.connectFailed(reason: "x").name == "none")
        #expect(m.backoffElapsed().name == "none")
    }
}

@Suite struct BackoffAndEncodingTests {
    @Test func backoffNeverOverflows() {
        let delay = Machine.backoffDelay(failures: 10_000, min: .milliseconds(50), max: .seconds(2))
        #expect(delay == .seconds(2))
        #expect(Machine.backoffDelay(failures: 1, min: .milliseconds(50), max: .seconds(2)) == .milliseconds(50))
    }

    @Test func commandIsAnArrayOfBulkStrings() {
        var buffer = ByteBuffer()
        buffer.writeRedisCommand(["SET", "rbtest:k", ""])
        #expect(String(buffer: buffer) == "*3\r\n$3\r\nSET\r\n$8\r\nrbtest:k\r\n$0\r\n\r\n")
        var binary = ByteBuffer()
        binary.writeRedisCommand([ByteBuffer(bytes: [0, 13, 10, 255])])
        #expect(Array(binary.readableBytesView) == Array("*1\r\n$4\r\n".utf8) + [0, 13, 10, 255] + Array("\r\n".utf8))
    }

    @Test func errorDescriptionsNameTheAddress() {
        #expect(
            RedisClientError.connectionFailed(address: "127.0.0.1:6390", reason: "refused").description
                == "cannot connect to Redis at 127.0.0.1:6390: refused")
        #expect(RedisClientError.timeout(address: "a:1", after: .milliseconds(100)).description.contains("100 ms"))
    }
}
