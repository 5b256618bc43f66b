import NIOCore
import RESP

/// Which primary serves each of the 16384 slots, and the replicas of each primary, as one
/// `CLUSTER SLOTS` reply describes the cluster. Immutable: a refresh builds a new map.
public struct ClusterSlotMap: Sendable, Equatable {
    /// Every primary that serves at least one slot, sorted by address.
    public let primaries: [ClusterNodeAddress]
    /// The replicas of each primary, as the reply lists them.
    public let replicas: [ClusterNodeAddress: [ClusterNodeAddress]]
    /// For each slot, the index in `primaries` of its owner, or -1 when no node serves it.
    private var owners: [Int16]

    /// The primary that serves `slot`, or nil when the slot is not covered.
    public func owner(ofSlot slot: Int) -> ClusterNodeAddress? {
        guard (0..<HashSlot.count).contains(slot) else { return nil }
        let index = Int(owners[slot])
        return index >= 0 ? primaries[index] : nil
    }

    /// Slots that no primary serves.
    public var uncoveredSlots: Int { owners.lazy.filter { $0 < 0 }.count }

    /// The slots each primary serves (for reports).
    public var slotCounts: [ClusterNodeAddress: Int] {
        var counts: [ClusterNodeAddress: Int] = [:]
        for index in owners where index >= 0 { counts[primaries[Int(index)], default: 0] += 1 }
        return counts
    }

    /// The same map with `slot` served by `address` (what a `MOVED` reply says), so that
    /// the next command of that slot goes to the right node before the full refresh lands.
    public func moving(slot: Int, to address: ClusterNodeAddress) -> ClusterSlotMap {
        guard (0..<HashSlot.count).contains(slot) else { return self }
        var primaries = self.primaries
        var owners = self.owners
        let index: Int
        if let existing = primaries.firstIndex(of: address) {
            index = existing
        } else {
            primaries.append(address)
            index = primaries.count - 1
        }
        owners[slot] = Int16(index)
        return ClusterSlotMap(primaries: primaries, replicas: replicas, owners: owners)
    }

    private init(primaries: [ClusterNodeAddress], replicas: [ClusterNodeAddress: [ClusterNodeAddress]], owners: [Int16]) {
        self.primaries = primaries
        self.replicas = replicas
        self.owners = owners
    }

    /// Why a `CLUSTER SLOTS` reply could not be read.
    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    /// Reads a `CLUSTER SLOTS` reply: `[[start, end, [host, port, id, …], [replica host, port, id, …], …], …]`.
    /// A node announced with an empty host (or `?`) is taken to be on `defaultHost`, the host
    /// the reply came from, as Redis documents.
    public init(clusterSlotsReply reply: RESPValue, defaultHost: String) throws(ParseError) {
        func fail(_ problem: String) -> ParseError { ParseError(description: "unexpected CLUSTER SLOTS reply: \(problem)") }
        guard case .array(let ranges) = reply else {
            if case .error(let message) = reply { throw ParseError(description: "CLUSTER SLOTS refused: \(String(buffer: message))") }
            throw fail("not an array")
        }
        func node(_ value: RESPValue) throws(ParseError) -> ClusterNodeAddress {
            guard case .array(let fields) = value, fields.count >= 2,
                  let host = Self.text(fields[0]), case .integer(let port) = fields[1], (1...65535).contains(port)
            else { throw fail("a node entry is not [host, port, …]") }
            let effectiveHost = host.isEmpty || host == "?" ? defaultHost : host
            return ClusterNodeAddress(host: effectiveHost, port: Int(port))
        }
        var ownerAddresses = [ClusterNodeAddress?](repeating: nil, count: HashSlot.count)
        var replicas: [ClusterNodeAddress: [ClusterNodeAddress]] = [:]
        for range in ranges {
            guard case .array(let parts) = range, parts.count >= 3,
                  case .integer(let start) = parts[0], case .integer(let end) = parts[1],
                  start >= 0, end < HashSlot.count, start <= end
            else { throw fail("a slot range is not [start, end, primary, …]") }
            let primary = try node(parts[2])
            var rangeReplicas: [ClusterNodeAddress] = []
            for part in parts.dropFirst(3) { rangeReplicas.append(try node(part)) }
            for slot in Int(start)...Int(end) { ownerAddresses[slot] = primary }
            var known = replicas[primary, default: []]
            for replica in rangeReplicas where !known.contains(replica) { known.append(replica) }
            replicas[primary] = known
        }
        let primaries = Set(ownerAddresses.compactMap { $0 }).sorted()
        guard !primaries.isEmpty else { throw fail("no slot is served") }
        let indexOf = Dictionary(uniqueKeysWithValues: primaries.enumerated().map { ($1, Int16($0)) })
        self.init(
            primaries: primaries, replicas: replicas.filter { indexOf[$0.key] != nil },
            owners: ownerAddresses.map { address in address.flatMap { indexOf[$0] } ?? -1 })
    }

    private static func text(_ value: RESPValue) -> String? {
        switch value {
        case .bulkString(let bytes), .simpleString(let bytes): return String(buffer: bytes)
        default: return nil
        }
    }
}
