import NIOCore
import Synchronization

/// Every connected client, for `CLIENT LIST`, `INFO clients` and the client limit.
/// Admission is atomic, so the limit holds under a burst of connects.
public final class ClientRegistry: Sendable {
    private let clients = Mutex<[Int: ClientRecord]>([:])
    private let nextID = Atomic<Int>(1)
    public let maxClients: Int

    public init(maxClients: Int) {
        self.maxClients = maxClients
    }

    /// Registers a new client, or returns nil when the limit is reached.
    func admit(channel: any Channel, remoteAddress: String, localAddress: String) -> ClientRecord? {
        clients.withLock { clients in
            guard clients.count < maxClients else { return nil }
            let id = nextID.add(1, ordering: .relaxed).oldValue
            let record = ClientRecord(id: id, channel: channel, remoteAddress: remoteAddress, localAddress: localAddress)
            clients[id] = record
            return record
        }
    }

    func remove(_ id: Int) {
        _ = clients.withLock { $0.removeValue(forKey: id) }
    }

    /// The clients connected now, in id order.
    public var all: [ClientRecord] {
        clients.withLock { Array($0.values) }.sorted { $0.id < $1.id }
    }

    public var count: Int { clients.withLock { $0.count } }

    func contains(_ id: Int) -> Bool { clients.withLock { $0[id] != nil } }
}

/// What `CLIENT LIST` shows about one connection. Written by the connection's own
/// event loop, read by whichever connection asks.
public final class ClientRecord: Sendable {
    public let id: Int
    /// The connection, for draining it at shutdown.
    let channel: any Channel
    public let remoteAddress: String
    public let localAddress: String
    let createdAt = ContinuousClock.now
    private let state = Mutex(State())

    struct State {
        var name = ""
        var libraryName = ""
        var libraryVersion = ""
        var user = UserDirectory.defaultUserName
        var protocolVersion = 2
        var lastCommand = "NULL"
        var lastInteraction = ContinuousClock.now
    }

    init(id: Int, channel: any Channel, remoteAddress: String, localAddress: String) {
        self.id = id
        self.channel = channel
        self.remoteAddress = remoteAddress
        self.localAddress = localAddress
    }

    func update(_ change: (inout State) -> Void) {
        state.withLock { change(&$0) }
    }

    var name: String { state.withLock { $0.name } }

    /// One line in Redis's `CLIENT LIST` format.
    var listLine: String {
        let snapshot = state.withLock { $0 }
        let now = ContinuousClock.now
        let age = (now - createdAt).components.seconds
        let idle = (now - snapshot.lastInteraction).components.seconds
        return "id=\(id) addr=\(remoteAddress) laddr=\(localAddress) fd=-1 name=\(snapshot.name) "
            + "age=\(age) idle=\(idle) flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 "
            + "argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r "
            + "cmd=\(snapshot.lastCommand) user=\(snapshot.user) redir=-1 resp=\(snapshot.protocolVersion) "
            + "lib-name=\(snapshot.libraryName) lib-ver=\(snapshot.libraryVersion)"
    }
}
