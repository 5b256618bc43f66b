import NIOCore
import RESP

/// The life of one pipelined connection to Redis, without any I/O.
///
/// The owner (`LoopConnection`) turns every event (a send, a connect result, a reply, a close, a
/// timer tick) into one call here and runs the `Action` it gets back. Keeping the decisions in a
/// plain struct lets the tests drive every transition (backoff doubling, FIFO matching, failing
/// everything on close, timeout detection) without sockets or event loops. `Token` is whatever
/// the owner needs to complete a command: an `EventLoopPromise` in production, an `Int` in tests.
///
/// States: `idle` (never connected) → `connecting` → `handshaking` (AUTH, CLIENT SETNAME) →
/// `ready`; a failed connect or handshake → `backoff` (sends fail fast) → `connecting` when the
/// delay has passed; a lost ready connection → `connecting` at once; `shutDown` is final.
struct ConnectionStateMachine<Token> {
    /// What the machine needs to know of the configuration.
    struct Settings {
        var address: String
        var commandTimeout: TimeAmount
        var backoffMin: TimeAmount
        var backoffMax: TimeAmount
        var maxPending: Int
        var authenticate: Bool
        var selectDatabase: Bool = false
        var setName: Bool
    }

    enum State: Equatable {
        case idle
        case connecting
        case handshaking(authPending: Bool, selectPending: Bool, setNamePending: Bool, since: NIODeadline)
        case ready
        /// Waiting before the next connect attempt; sends fail with `lastError`.
        case backoff(lastError: RedisClientError)
        case shutDown
    }

    /// What to do after a connection ended (or a connect failed).
    enum Next: Equatable {
        case reconnectNow
        case reconnectAfter(TimeAmount)
        case stop
    }

    /// Everything that must happen when a connection (attempt) ends.
    struct Teardown {
        /// Commands to fail with `error`, oldest first.
        var failing: [Token]
        var error: RedisClientError
        /// Whether the owner must close the current channel (it may still be open).
        var closeChannel: Bool
        var next: Next
    }

    enum Action {
        case none
        /// Open a connection; the command just sent (if any) is queued until it is ready.
        case connect
        /// The command may be written now (flushed once at the end of the tick).
        case write
        /// The command waits in the output until the connection is ready.
        case queue
        /// The command was refused.
        case failCommand(Token, RedisClientError)
        /// Write the handshake: `AUTH` when `auth`, `SELECT` when `select`, then `CLIENT SETNAME` when `setName`.
        case sendHandshake(auth: Bool, select: Bool, setName: Bool)
        /// The connection is usable: flush queued commands, tell whoever waits for readiness.
        case markReady
        /// The reply to the oldest command.
        case succeed(Token, RESPValue)
        case teardown(Teardown)
    }

    struct Pending {
        var token: Token
        var enqueuedAt: NIODeadline
    }

    let settings: Settings
    private(set) var state: State = .idle
    private var pending = CircularBuffer<Pending>()
    /// Connect attempts that failed since the last time the connection was ready.
    private(set) var consecutiveFailures = 0

    init(settings: Settings) {
        self.settings = settings
        pending.reserveCapacity(64)
    }

    /// Commands sent and not yet answered (written or queued).
    var pendingCount: Int { pending.count }

    var isReady: Bool { state == .ready }

    // MARK: - Events

    /// A caller wants to send a command.
    mutating func sendRequested(_ token: Token, now: NIODeadline) -> Action {
        switch state {
        case .shutDown:
            return .failCommand(token, .shutDown)
        case .backoff(let lastError):
            return .failCommand(token, lastError)
        case .idle, .connecting, .handshaking, .ready:
            break
        }
        guard pending.count < settings.maxPending else {
            return .failCommand(token, .overloaded(address: settings.address))
        }
        pending.append(Pending(token: token, enqueuedAt: now))
        switch state {
        case .ready:
            return .write
        case .idle:
            state = .connecting
            return .connect
        default:
            return .queue
        }
    }

    /// Someone wants the connection up now (start-up check): connects unless already on the way.
    mutating func connectRequested() -> Action {
        switch state {
        case .idle, .backoff:
            state = .connecting
            return .connect
        case .connecting, .handshaking, .ready, .shutDown:
            return .none
        }
    }

    /// The TCP connection is established.
    mutating func connected(now: NIODeadline) -> Action {
        guard state == .connecting else {
            // Shut down (or otherwise moved on) while connecting: drop this channel.
            return .teardown(Teardown(failing: [], error: .shutDown, closeChannel: true, next: .stop))
        }
        if settings.authenticate || settings.selectDatabase || settings.setName {
            state = .handshaking(
                authPending: settings.authenticate, selectPending: settings.selectDatabase,
                setNamePending: settings.setName, since: now)
            return .sendHandshake(auth: settings.authenticate, select: settings.selectDatabase, setName: settings.setName)
        }
        return becomeReady()
    }

    /// The connect attempt failed (refused, timed out, name not resolved).
    mutating func connectFailed(reason: String) -> Action {
        guard state == .connecting else { return .none }
        return failAttempt(.connectionFailed(address: settings.address, reason: reason), closeChannel: false)
    }

    /// One complete reply arrived.
    mutating func replyReceived(_ value: RESPValue) -> Action {
        switch state {
        case .ready:
            guard let first = pending.popFirst() else {
                return lose(
                    .connectionClosed(address: settings.address), closeChannel: true)
            }
            return .succeed(first.token, value)
        case .handshaking(let authPending, let selectPending, let setNamePending, let since):
            if authPending || selectPending {
                if let message = Self.errorMessage(value) {
                    let error: RedisClientError = authPending
                        ? .authenticationFailed(address: settings.address, reason: message)
                        : .connectionFailed(address: settings.address, reason: "SELECT refused: \(message)")
                    return failAttempt(error, closeChannel: true)
                }
                let stillSelecting = authPending && selectPending
                if stillSelecting || setNamePending {
                    state = .handshaking(
                        authPending: false, selectPending: stillSelecting, setNamePending: setNamePending, since: since)
                    return .none
                }
                return becomeReady()
            }
            // CLIENT SETNAME: its outcome does not matter.
            return becomeReady()
        case .idle, .connecting, .backoff, .shutDown:
            return .none
        }
    }

    /// The channel closed (from either side) or failed.
    mutating func connectionLost(reason: String, closeChannel: Bool) -> Action {
        switch state {
        case .ready:
            return lose(.connectionClosed(address: settings.address), closeChannel: closeChannel)
        case .connecting, .handshaking:
            return failAttempt(.connectionFailed(address: settings.address, reason: reason), closeChannel: closeChannel)
        case .idle, .backoff, .shutDown:
            return .none
        }
    }

    /// The periodic check: has the oldest command (or the handshake) waited too long?
    mutating func timeoutCheck(now: NIODeadline) -> Action {
        let error = RedisClientError.timeout(address: settings.address, after: settings.commandTimeout)
        switch state {
        case .ready:
            guard let oldest = pending.first, now - oldest.enqueuedAt > settings.commandTimeout else { return .none }
            return lose(error, closeChannel: true)
        case .handshaking(_, _, _, let since):
            guard now - since > settings.commandTimeout else { return .none }
            return failAttempt(error, closeChannel: true)
        case .idle, .connecting, .backoff, .shutDown:
            return .none
        }
    }

    /// The backoff delay has passed.
    mutating func backoffElapsed() -> Action {
        guard case .backoff = state else { return .none }
        state = .connecting
        return .connect
    }

    /// The client is shutting down: fail everything, close, never reconnect.
    mutating func shutdownRequested() -> Action {
        let wasOpen: Bool
        switch state {
        case .shutDown: return .none
        case .connecting, .handshaking, .ready: wasOpen = true
        case .idle, .backoff: wasOpen = false
        }
        state = .shutDown
        return .teardown(Teardown(failing: drainPending(), error: .shutDown, closeChannel: wasOpen, next: .stop))
    }

    // MARK: - Transitions

    private mutating func becomeReady() -> Action {
        state = .ready
        consecutiveFailures = 0
        return .markReady
    }

    /// A working connection ended: fail what was pending and reconnect at once.
    private mutating func lose(_ error: RedisClientError, closeChannel: Bool) -> Action {
        state = .connecting
        return .teardown(Teardown(failing: drainPending(), error: error, closeChannel: closeChannel, next: .reconnectNow))
    }

    /// A connect or handshake failed: fail what was queued and retry after a growing delay.
    private mutating func failAttempt(_ error: RedisClientError, closeChannel: Bool) -> Action {
        consecutiveFailures += 1
        state = .backoff(lastError: error)
        return .teardown(
            Teardown(
                failing: drainPending(), error: error, closeChannel: closeChannel,
                next: .reconnectAfter(Self.backoffDelay(
                    failures: consecutiveFailures, min: settings.backoffMin, max: settings.backoffMax))))
    }

    private mutating func drainPending() -> [Token] {
        let tokens = pending.map(\.token)
        pending.removeAll(keepingCapacity: true)
        return tokens
    }

    /// `min`, `2·min`, `4·min`, … capped at `max`, for the 1st, 2nd, 3rd, … failure.
    static func backoffDelay(failures: Int, min: TimeAmount, max: TimeAmount) -> TimeAmount {
        var delay = Swift.max(min.nanoseconds, 1)
        let cap = Swift.max(max.nanoseconds, delay)
        var doublings = failures - 1
        while doublings > 0 && delay < cap {
            delay = delay > cap / 2 ? cap : delay * 2
            doublings -= 1
        }
        return .nanoseconds(Swift.min(delay, cap))
    }

    /// The text of an error reply, or `nil` for any other value.
    static func errorMessage(_ value: RESPValue) -> String? {
        switch value {
        case .error(let message), .bulkError(let message): return String(buffer: message)
        default: return nil
        }
    }
}
