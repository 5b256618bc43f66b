import NIOCore
import RESP

/// What a cluster node's error reply asks the client to do instead of giving up: go to another
/// node for good (`MOVED`: the slot has a new owner, refresh the map), go there once (`ASK`: the
/// slot is being migrated and this key already moved; send `ASKING` first), or wait a moment and
/// retry (`TRYAGAIN` during a migration, `CLUSTERDOWN` during a failover).
public enum ClusterRedirection: Equatable, Sendable {
    case moved(slot: Int, to: ClusterNodeAddress)
    case ask(slot: Int, to: ClusterNodeAddress)
    case tryAgain
    case clusterDown

    /// The redirection an error reply carries, or nil for any other reply.
    public init?(reply: RESPValue) {
        switch reply {
        case .error(let message), .bulkError(let message):
            self.init(errorMessage: String(buffer: message))
        default:
            return nil
        }
    }

    /// Reads `MOVED 3999 127.0.0.1:6381`, `ASK 3999 127.0.0.1:6381`, `TRYAGAIN …`, `CLUSTERDOWN …`.
    public init?(errorMessage: String) {
        let words = errorMessage.split(separator: " ", omittingEmptySubsequences: true)
        guard let kind = words.first else { return nil }
        switch kind {
        case "MOVED", "ASK":
            guard words.count == 3, let slot = Int(words[1]), (0..<HashSlot.count).contains(slot),
                  let address = ClusterNodeAddress(parsing: words[2])
            else { return nil }
            self = kind == "MOVED" ? .moved(slot: slot, to: address) : .ask(slot: slot, to: address)
        case "TRYAGAIN":
            self = .tryAgain
        case "CLUSTERDOWN":
            self = .clusterDown
        default:
            return nil
        }
    }
}
