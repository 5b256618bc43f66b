import NIOCore
import RESP

/// What the client-facing server needs to know: where to listen, how many clients to
/// accept, when to drop idle ones, how big a request may be and who may connect.
public struct ServerConfiguration: Sendable {
    /// The port a gateway listens on unless told otherwise.
    public static let defaultPort = 6380

    public var host: String
    /// 0 asks the OS for a free port (tests read the real one back).
    public var port: Int
    /// Event loop threads; one per core by default.
    public var eventLoopThreads: Int
    /// Clients beyond this get Redis's `-ERR max number of clients reached`.
    public var maxClients: Int
    /// Seconds of inactivity after which a client is disconnected; 0 = never.
    public var idleTimeoutSeconds: Int
    /// Protocol limits applied to every request.
    public var limits: RESPLimits
    /// Pipelined requests awaiting a backend reply per connection before reading pauses.
    public var maxPendingRepliesPerClient: Int
    /// Passwords, if any; empty means no authentication.
    public var users: UserDirectory

    public init(
        host: String = "127.0.0.1",
        port: Int = ServerConfiguration.defaultPort,
        eventLoopThreads: Int = System.coreCount,
        maxClients: Int = 10_000,
        idleTimeoutSeconds: Int = 0,
        limits: RESPLimits = .default,
        maxPendingRepliesPerClient: Int = 1024,
        users: UserDirectory = UserDirectory()
    ) {
        self.host = host
        self.port = port
        self.eventLoopThreads = eventLoopThreads
        self.maxClients = maxClients
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.limits = limits
        self.maxPendingRepliesPerClient = maxPendingRepliesPerClient
        self.users = users
    }
}
