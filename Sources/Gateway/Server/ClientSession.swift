import RESP

/// The state of one client connection that commands read and change: protocol version,
/// who it authenticated as. Lives on the connection's event loop only.
struct ClientSession {
    let record: ClientRecord
    var protocolVersion: RESPVersion = .resp2
    /// The user it authenticated as; nil until it does (when authentication is required).
    var authenticatedUser: String?
    /// The last command run, as CLIENT LIST's `cmd=` shows it (mirrored into `record` when it changes).
    var lastCommand = "NULL"
    /// `MULTI`/`WATCH` state.
    var transaction = TransactionStateMachine()
    /// `CLIENT REPLY` state.
    var replyMode = ReplyMode()
    /// Failed authentication attempts on this connection.
    var failedAuths = 0
    /// `CLIENT TRACKING` options; nil when off. Kept here so that a GET asks no lock whether to track.
    var tracking: TrackingOptions?
    /// `CLIENT CACHING yes|no` given for the next command (OPTIN/OPTOUT).
    var cachingForNextCommand = false
    /// Subscribed to `__redis__:invalidate` (the target of other clients' `REDIRECT`).
    var subscribedToInvalidations = false
    /// Where tracking pushes for this connection go; set by its handler while in the pipeline.
    var pushSink: ClientTracking.Sink?

    init(record: ClientRecord, requiresAuthentication: Bool) {
        self.record = record
        self.authenticatedUser = requiresAuthentication ? nil : UserDirectory.defaultUserName
    }

    var isAuthenticated: Bool { authenticatedUser != nil }

    /// Whether the keys of the command being run are remembered for this client's pushes.
    var remembersReads: Bool {
        guard let tracking, case .keys(let caching) = tracking.mode else { return false }
        switch caching {
        case .always: return true
        case .optIn: return cachingForNextCommand
        case .optOut: return !cachingForNextCommand
        }
    }
}
