/// How much one client, and all clients together, may make the gateway hold: replies owed
/// but not yet taken by the client's socket, and request bytes read but not yet run. Redis
/// has the same three limits (`client-output-buffer-limit`, `client-query-buffer-limit`,
/// `maxmemory-clients`); the gateway needs them on by default because it multiplexes every
/// client onto shared Redis connections, so one client that never reads must not hold
/// memory that the others' replies need.
public struct ClientBufferLimits: Sendable, Equatable {
    /// Past this many bytes owed (buffered plus the estimate of replies still in flight),
    /// the client's requests are not read until it reads its replies.
    public var outputSoftBytes: Int
    /// Past this many bytes buffered for the client, it is disconnected.
    public var outputHardBytes: Int
    /// Past this many request bytes read and not yet run (a request still arriving, or
    /// requests held back by the output limit), the client is disconnected.
    public var queryBytes: Int
    /// Past this many bytes buffered for all clients together, clients over the soft output
    /// limit are disconnected as their buffers grow; 0 = no gateway-wide limit.
    public var gatewayBytes: Int
    /// Replies one event loop's clients may await from the backends at once (estimated bytes):
    /// past it, clients that already await a reply wait their turn (`InFlightAdmission`).
    public var inFlightBytesPerLoop: Int
    /// Misses one event loop's clients may have being filled at once: beyond, a miss gets
    /// `-TRYAGAIN … gateway overloaded` at once (counted as shed) instead of a fill.
    public var missesInFlightPerLoop: Int

    public init(
        outputSoftBytes: Int = 256 << 10, outputHardBytes: Int = 32 << 20, queryBytes: Int = 16 << 20,
        gatewayBytes: Int = 128 << 20, inFlightBytesPerLoop: Int = 512 << 10, missesInFlightPerLoop: Int = 512
    ) {
        self.missesInFlightPerLoop = missesInFlightPerLoop
        self.outputSoftBytes = outputSoftBytes
        self.outputHardBytes = outputHardBytes
        self.queryBytes = queryBytes
        self.gatewayBytes = gatewayBytes
        self.inFlightBytesPerLoop = inFlightBytesPerLoop
    }

    public static let `default` = ClientBufferLimits()

    /// Why a client was disconnected, with the name `INFO stats` counts it under.
    public enum Cause: String, Sendable, CaseIterable {
        case outputBuffer = "client_output_buffer_limit_disconnections"
        case queryBuffer = "client_query_buffer_limit_disconnections"
        case gatewayLimit = "evicted_clients"

        /// The metric's label.
        public var label: String {
            switch self {
            case .outputBuffer: "output_buffer"
            case .queryBuffer: "query_buffer"
            case .gatewayLimit: "maxmemory_clients"
            }
        }
    }

    /// Whether a client holding `output` reply bytes and `input` request bytes may stay,
    /// while all clients together hold `gatewayTotal`.
    public func verdict(output: Int, input: Int, gatewayTotal: Int) -> Cause? {
        if output > outputHardBytes { return .outputBuffer }
        if input > queryBytes { return .queryBuffer }
        // Over the gateway-wide limit the clients that hold the most go first, as Redis's
        // maxmemory-clients evicts its biggest clients: those past the soft limit, which are
        // not reading their replies (a client that reads holds less than that).
        if gatewayBytes > 0 && gatewayTotal > gatewayBytes && output + input > outputSoftBytes { return .gatewayLimit }
        return nil
    }
}
