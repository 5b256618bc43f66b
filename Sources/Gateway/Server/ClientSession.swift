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

    init(record: ClientRecord, requiresAuthentication: Bool) {
        self.record = record
        self.authenticatedUser = requiresAuthentication ? nil : UserDirectory.defaultUserName
    }

    var isAuthenticated: Bool { authenticatedUser != nil }
}
