import CacheModel
import NIOCore
import RESP

/// What the client-facing server needs to know: where to listen, how many clients to
/// accept, when to drop idle ones, how big a request may be and who may connect.
public struct ServerConfiguration: Sendable {
    /// The port a gateway listens on unless told otherwise.
    public static let defaultPort = GatewayDefaults.port

    public var host: String
    /// 0 asks the OS for a free port (tests read the real one back).
    public var port: Int
    /// Whether the plaintext listener on `port` is open (`server.plaintext`); turned off, only
    /// the TLS listener serves.
    public var plaintext = true
    /// The TLS listener beside the plaintext one (`server.tls_port` and its files); nil = none.
    public var tls: TLSSettings?
    /// Event loop threads; `defaultEventLoopThreads()` by default.
    public var eventLoopThreads: Int
    /// Clients beyond this get Redis's `-ERR max number of clients reached`.
    public var maxClients: Int
    /// Seconds of inactivity after which a client is disconnected; 0 = never.
    public var idleTimeoutSeconds: Int
    /// Seconds a request may take to arrive once its first byte has; 0 = no limit.
    public var requestTimeoutSeconds: Int
    /// Protocol limits applied to every request.
    public var limits: RESPLimits
    /// Pipelined requests awaiting a backend reply per connection before reading pauses.
    public var maxPendingRepliesPerClient: Int
    /// The bytes one client, and all of them together, may make the gateway hold.
    public var bufferLimits: ClientBufferLimits
    /// SO_SNDBUF of client sockets (the kernel doubles it); 0 = the kernel's autotuning.
    public var socketSendBufferBytes: Int
    /// Passwords, if any; empty means no authentication.
    public var users: UserDirectory
    /// The files `users` was read from (`server.requirepass_file`, `server.users_file`), for
    /// `--check-config`; nil when the passwords were given inline or not at all.
    public var requirePassFile: String?
    public var usersFile: String?
    /// Redis's protected mode: refuse to listen beyond loopback without a password
    /// (`ProtectedMode`). Only the configuration loader applies it.
    public var protectedMode = true
    /// Most keys the client-tracking table remembers (`tracking.max_keys`, as Redis's
    /// `tracking-table-max-keys`); 0: no bound. A key forgotten to make room is announced first.
    public var trackingMaxKeys = ServerConfiguration.defaultTrackingMaxKeys
    /// Redis's default: about 100 MB of table at most.
    public static let defaultTrackingMaxKeys = 1_000_000

    public init(
        host: String = "127.0.0.1",
        port: Int = ServerConfiguration.defaultPort,
        eventLoopThreads: Int = ServerConfiguration.defaultEventLoopThreads(),
        maxClients: Int = 10_000,
        idleTimeoutSeconds: Int = 0,
        requestTimeoutSeconds: Int = 10,
        limits: RESPLimits = .default,
        maxPendingRepliesPerClient: Int = 1024,
        bufferLimits: ClientBufferLimits = .default,
        socketSendBufferBytes: Int = 131_072,
        users: UserDirectory = UserDirectory()
    ) {
        self.host = host
        self.port = port
        self.eventLoopThreads = eventLoopThreads
        self.maxClients = maxClients
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.requestTimeoutSeconds = requestTimeoutSeconds
        self.limits = limits
        self.maxPendingRepliesPerClient = maxPendingRepliesPerClient
        self.bufferLimits = bufferLimits
        self.socketSendBufferBytes = socketSendBufferBytes
        self.users = users
    }

    /// One event loop per core, except on machines of one or two cores, which get one loop.
    ///
    /// Why: a gateway on a two-core machine shares it with Redis and often with its clients
    /// (the benchmark setting of issue 10, and small VMs). A second loop there competes with
    /// them for the same two cores: it doubles the gateway's sleeps and wake-ups, so unpipelined
    /// GETs queue behind context switches (p99 1.6-2.5x twemproxy's with two loops, 1.0x with
    /// one, loadtest/hit-ratio.sh), while one loop still carries 16-deep pipelines at 1.3-1.5x
    /// twemproxy's throughput. Set `server.threads` to override.
    public static func defaultEventLoopThreads(cores: Int = System.coreCount) -> Int {
        cores <= 2 ? 1 : cores
    }
}
