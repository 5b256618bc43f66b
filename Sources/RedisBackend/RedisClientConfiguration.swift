import NIOCore

/// Where the gateway's Redis is and how patient to be with it. Every field has a default that
/// suits a Redis on the same host; `init(url:)` reads the usual `redis://` form.
public struct RedisClientConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// With a password: `AUTH username password` when set, else `AUTH password`.
    public var username: String?
    public var password: String?
    /// Bound on establishing the TCP connection.
    public var connectTimeout: TimeAmount
    /// Bound on the wait for any reply (checked periodically on the oldest pending command).
    public var commandTimeout: TimeAmount
    /// First delay before retrying a failed connect; doubles on each further failure.
    public var reconnectBackoffMin: TimeAmount
    /// Longest delay between connect attempts.
    public var reconnectBackoffMax: TimeAmount
    /// Commands waiting on one connection; beyond it, `send` fails fast with `.overloaded`.
    public var maxPendingCommands: Int
    /// Sent with `CLIENT SETNAME` on connect (errors ignored) so operators see who we are; `nil` skips it.
    public var clientName: String?
    /// The database index to `SELECT` on connect (0, Redis's default, sends nothing).
    public var database: Int = 0
    /// TLS on every connection (`rediss://`); nil: plain TCP.
    public var tls: RedisTLS?

    public init(
        host: String = "127.0.0.1",
        port: Int = 6379,
        username: String? = nil,
        password: String? = nil,
        connectTimeout: TimeAmount = .seconds(2),
        commandTimeout: TimeAmount = .seconds(2),
        reconnectBackoffMin: TimeAmount = .milliseconds(50),
        reconnectBackoffMax: TimeAmount = .seconds(2),
        maxPendingCommands: Int = 100_000,
        clientName: String? = "quicksell-gateway"
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.reconnectBackoffMin = reconnectBackoffMin
        self.reconnectBackoffMax = reconnectBackoffMax
        self.maxPendingCommands = maxPendingCommands
        self.clientName = clientName
    }

    /// Reads `redis[s]://[[user]:password@]host[:port][/db]`; the other fields keep their
    /// defaults. `rediss://` connects with TLS, checking the server as `tls` says.
    public init(url: String, tls: RedisTLSSettings = RedisTLSSettings()) throws {
        let parsed = try RedisURL(parsing: url)
        self.init(host: parsed.host, port: parsed.port, username: parsed.username, password: parsed.password)
        database = parsed.database
        if parsed.tls { self.tls = try RedisTLS.make(tls) }
    }

    /// `host:port`, as error messages name the server.
    public var address: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
