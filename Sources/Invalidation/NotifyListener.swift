import Dispatch
import Foundation
import Logging
import Postgres
import Synchronization

/// The notify source's listener: a thread of its own that owns one ordinary libpq
/// connection (no replication privilege), `LISTEN`s on the triggers' channel (migration
/// 009), flushes every family, then applies each notification through the `Invalidator`.
/// Every decision is the `NotifyListenerStateMachine`'s; this thread only reads, writes and
/// waits. Async code starts and stops it without blocking.
///
/// PostgreSQL keeps no notification for a connection that was not listening, so every
/// (re)connection flushes every family before the listener counts as caught up (`/readyz`).
public final class NotifyListener: SourceListener {
    let url: String
    let invalidator: Invalidator
    let logger: Logger
    let thread: ListenerThread
    /// The listener's status, written on its thread.
    var state: ListenerStatusBox { thread.status }
    var firstAttempt: OneTimeEvent { thread.firstAttempt }
    private let pollMilliseconds: Int32 = 100
    /// A connection silent this long (a ping unanswered) is given up (`SilenceWatch`).
    private let silenceLimit: Duration

    package init(url: String, invalidator: Invalidator,
                 silenceLimit: Duration = .seconds(InvalidationSettings.defaultListenerTimeoutSeconds), logger: Logger) {
        self.url = url
        self.silenceLimit = silenceLimit
        self.invalidator = invalidator
        self.logger = logger
        self.thread = ListenerThread(logger: logger)
    }

    public var status: ListenerStatus { state.withLock { $0 } }

    package var catchingUpProblem: String { "flushing every family after (re)connecting" }

    package var sourceInfoLines: [(String, String)] { [("notify_channel", NotifyPayload.channel)] }

    package func start() async {
        await thread.start { [self] in run() }
    }

    package func stop() async {
        await thread.stop()
    }

    // MARK: - The thread

    private func run() {
        var machine = NotifyListenerStateMachine()
        while !thread.isStopping {
            do {
                try connectAndListen(&machine)
            } catch {
                thread.connectionFailed(error) { reason in
                    machine.connectionLost(reason: reason).compactMap {
                        if case .reconnect(let delay, let report) = $0 { (delay, report) } else { nil }
                    }
                }
            }
        }
    }

    private func connectAndListen(_ machine: inout NotifyListenerStateMachine) throws {
        let connection = try PostgresConnection(url: url, applicationName: "quicksell-gateway listener", connectTimeoutSeconds: 2,
                                                detectsDeadPeer: true)
        let facts = try InvalidationServerFacts.read(connection, slot: "")
        guard facts.notifyFed else {
            throw facts.emitters == nil
                ? InvalidationSetupError.notifyMigrationMissing(address: connection.address)
                : InvalidationSetupError.sourceSwitchedOff(source: .notify, address: connection.address)
        }
        try connection.execute("LISTEN \(NotifyPayload.channel)")
        state.withLock {
            $0.connected = true
            $0.lastError = nil
        }
        var session = Session(listener: self, connection: connection)
        try session.perform(machine.listening(), &machine)
        try session.run(&machine)
    }

    /// One connection's notifications, run on the listener's thread: the I/O half of the
    /// `NotifyListenerStateMachine`.
    private struct Session {
        let listener: NotifyListener
        let connection: PostgresConnection
        /// Redis's answers to the batches on their way, by batch number.
        private var outcomes: [Int: BlockingOutcome<Void>] = [:]
        private var silence: SilenceWatch
        private var pingInFlight = false

        init(listener: NotifyListener, connection: PostgresConnection) {
            self.listener = listener
            self.connection = connection
            silence = SilenceWatch(limit: listener.silenceLimit, now: .now)
        }

        mutating func run(_ machine: inout NotifyListenerStateMachine) throws {
            while !listener.thread.isStopping {
                let readable = try waitForInput(timeoutMilliseconds: machine.hasApplyInFlight ? 1 : listener.pollMilliseconds)
                try connection.consumeInput()
                if pingInFlight && connection.takePingAnswer() { pingInFlight = false }
                try watchSilence(heard: readable)
                while let notification = connection.nextNotification() {
                    guard notification.channel == NotifyPayload.channel else { continue }
                    machine.received(notification.payload)
                }
                try perform(machine.inputRead(now: .now), &machine)
                try perform(outcomes.reportAnswers(to: &machine), &machine)
                try perform(machine.timePassed(now: .now), &machine)
            }
        }

        mutating func perform(_ actions: [NotifyListenerStateMachine.Action],
                              _ machine: inout NotifyListenerStateMachine) throws {
            var work = actions
            var next = 0
            while next < work.count {
                let action = work[next]
                next += 1
                switch action {
                case .flushAll(let reason):
                    try listener.thread.flushEverything(listener.invalidator, reason: reason)
                    work += machine.flushed(now: .now)
                case .reportConnectedAgain:
                    listener.logger.notice("invalidation listener connected again")
                case .caughtUp:
                    listener.state.withLock { $0.caughtUp = true }
                    listener.firstAttempt.signal()
                case .logMalformed(let payload):
                    listener.logger.warning("flushing the families of a malformed invalidation notification",
                                            metadata: ["payload": "\(payload)"])
                case .countMessages(let count):
                    listener.state.withLock { $0.messagesReceived += count }
                case .apply(let batch, let writes):
                    outcomes[batch] = try listener.thread.startApply(writes, listener.invalidator)
                case .flushFamilies(let batch, let flush):
                    outcomes[batch] = try listener.thread.startFamilyFlush(
                        flush, listener.invalidator, why: "a statement wrote too many keys to list")
                case .abandon(let reason):
                    throw StreamAbandoned(description: reason)
                case .reconnect:
                    break  // decided around the connection, not within it
                }
            }
        }

        /// Pings a connection quiet for half the limit; gives it up at the limit.
        private mutating func watchSilence(heard: Bool) throws {
            silence.read(now: .now, heard: heard)
            switch silence.verdict(now: .now) {
            case .quiet:
                break
            case .ping:
                guard !pingInFlight else { return }
                try connection.sendPing()
                pingInFlight = true
            case .giveUp(let reason):
                throw StreamAbandoned(description: reason + " (invalidation.listener_timeout_seconds)")
            }
        }

        private func waitForInput(timeoutMilliseconds: Int32) throws -> Bool {
            var descriptor = pollfd(fd: connection.socketDescriptor, events: Int16(POLLIN), revents: 0)
            guard descriptor.fd >= 0 else {
                throw PostgresError.connectionLost(address: connection.address, message: "socket closed")
            }
            return poll(&descriptor, 1, timeoutMilliseconds) > 0
        }
    }
}
