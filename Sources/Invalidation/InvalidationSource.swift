/// Where a gateway learns which cached keys a PostgreSQL write changed (migrations 008, 009).
public enum InvalidationSource: String, Sendable, CaseIterable, CustomStringConvertible {
    /// `wal` where the server and role allow a replication slot, else `notify`.
    case auto
    /// Triggers send `NOTIFY`; one ordinary connection `LISTEN`s. Works on every server;
    /// what is sent while the listener is away is lost, so it flushes every family on (re)connect.
    case notify
    /// Logical decoding messages streamed from this gateway's replication slot: lossless
    /// replay after any gap; needs `wal_level = logical` and a role with `REPLICATION`.
    case wal

    public var description: String { rawValue }

    /// The form configuration errors name.
    public static let expectedForm = "one of auto, notify, wal"
}
