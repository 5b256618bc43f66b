import Foundation
import Logging
import Postgres

/// One connection's replication stream, run on the listener's thread: the I/O half of the
/// `ReplicationStreamStateMachine`. It waits in `poll()`, reads the copy data, sends status
/// updates, hands batches to the `Invalidator` and waits for them when the machine says so.
struct ReplicationStream {
    let listener: InvalidationListener
    let connection: PostgresConnection
    /// Redis's answers to the batches on their way, by batch number.
    private var outcomes: [Int: BlockingOutcome<Void>] = [:]
    private let pollMilliseconds: Int32 = 100

    init(listener: InvalidationListener, connection: PostgresConnection) {
        self.listener = listener
        self.connection = connection
    }

    /// Streams until the connection fails, the machine abandons the stream or the gateway stops.
    mutating func run(_ machine: inout ReplicationStreamStateMachine) throws {
        defer {
            // Stopping or failing: confirm what was applied, so that the next start does not replay it.
            _ = outcomes.reportAnswers(to: &machine)
            for case .sendStatusUpdate(let position) in machine.streamEnded() { try? sendStatusUpdate(confirming: position) }
        }
        while !listener.thread.isStopping {
            // With applies in flight, wake soon to collect their answers even if the stream is quiet.
            _ = try waitForInput(timeoutMilliseconds: machine.hasBatchesInFlight ? 1 : pollMilliseconds)
            // Everything the socket holds goes into one batch (libpq reads a few tens of KiB per
            // call): one Redis call per batch, so a busy stream makes bigger batches instead of a
            // growing backlog. The batch is applied while the next one is read.
            repeat {
                try connection.consumeInput()
                while let bytes = try connection.readStreamMessage() {
                    machine.received(try ReplicationMessage.decode(bytes))
                }
            } while try machine.wantsMoreInput && waitForInput(timeoutMilliseconds: 0)
            try perform(machine.inputRead(now: .now), &machine)
            try perform(outcomes.reportAnswers(to: &machine), &machine)
            try perform(machine.timePassed(now: .now), &machine)
        }
    }

    /// Runs `actions`, and those that the answers they wait for lead to.
    private mutating func perform(_ actions: [ReplicationStreamStateMachine.Action],
                                  _ machine: inout ReplicationStreamStateMachine) throws {
        var work = actions
        var next = 0
        while next < work.count {
            let action = work[next]
            next += 1
            switch action {
            case .logMalformed(let content):
                listener.logger.warning("ignoring a malformed invalidation message", metadata: ["content": "\(content)"])
            case .countMessages(let count):
                listener.state.withLock { $0.messagesReceived += count }
            case .apply(let batch, let writes):
                outcomes[batch] = try listener.thread.startApply(writes, listener.invalidator)
            case .flushFamilies(let batch, let flush):
                outcomes[batch] = try listener.thread.startFamilyFlush(
                    flush, listener.invalidator, why: "a transaction wrote too many keys to unlink one by one")
            case .countReplays(let count):
                listener.state.withLock { $0.transactionReplays += count }
            case .waitForApply(let batch, let deadline):
                let timedOut = outcomes[batch].map { $0.wait(until: deadline) == nil } ?? false
                // Progress first: a batch that is moving gets more time.
                work += outcomes.reportAnswers(to: &machine)
                if timedOut { work += machine.timePassed(now: .now) }
            case .sendStatusUpdate(let position):
                try sendStatusUpdate(confirming: position)
            case .ping(let position):
                try sendStatusUpdate(confirming: position, replyRequested: true)
            case .caughtUp(let replayedKeys):
                listener.state.withLock { $0.caughtUp = true }
                if let replayedKeys { listener.countRecovery(replayedKeys: replayedKeys) }
                listener.firstAttempt.signal()
            case .abandonStream(let reason):
                throw StreamAbandoned(description: reason)
            case .reportConnectedAgain:
                listener.logger.notice("invalidation listener connected again")
            case .flushAll, .reconnect:
                break  // decided around the stream, not within it
            }
        }
    }

    private func sendStatusUpdate(confirming position: UInt64, replyRequested: Bool = false) throws {
        try connection.sendStreamMessage(ReplicationMessage.statusUpdate(
            confirming: position, clock: Self.postgresClock(), replyRequested: replyRequested))
        listener.state.withLock { $0.confirmedPosition = position }
    }

    /// Now in microseconds since 2000-01-01 (PostgreSQL's clock, for status updates).
    private static func postgresClock() -> Int64 {
        Int64(Date().timeIntervalSince1970 * 1_000_000) - ReplicationMessage.postgresEpochOffsetMicroseconds
    }

    /// Waits until the connection's socket is readable or `timeoutMilliseconds` passed;
    /// true when it is readable.
    private func waitForInput(timeoutMilliseconds: Int32) throws -> Bool {
        var descriptor = pollfd(fd: connection.socketDescriptor, events: Int16(POLLIN), revents: 0)
        guard descriptor.fd >= 0 else {
            throw PostgresError.connectionLost(address: connection.address, message: "socket closed")
        }
        return poll(&descriptor, 1, timeoutMilliseconds) > 0
    }
}

/// The state machine gave up on the stream (a batch failed or took too long).
struct StreamAbandoned: Error, CustomStringConvertible {
    let description: String
}
