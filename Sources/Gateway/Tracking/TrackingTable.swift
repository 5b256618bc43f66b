import CacheModel

/// How one client asked to be told of invalidations (`CLIENT TRACKING ON …`).
struct TrackingOptions: Equatable, Sendable {
    enum Mode: Equatable, Sendable {
        /// Keys the client read are remembered (every read, or per `CLIENT CACHING` with OPTIN/OPTOUT).
        case keys(Caching)
        /// Nothing is remembered: every invalidated key under `prefixes` is announced.
        case broadcast(prefixes: [String])
    }

    enum Caching: Equatable, Sendable {
        case always
        /// Only reads right after `CLIENT CACHING yes`.
        case optIn
        /// Every read except right after `CLIENT CACHING no`.
        case optOut
    }

    var mode: Mode = .keys(.always)
    /// Accepted: no client writes a key through the gateway, so there is no loop to break.
    var noLoop = false
    /// The client that receives the pushes (`REDIRECT <id>`); nil: the client itself.
    var redirect: Int?
}

/// The shared table of which client read which key, and what each invalidation must push to
/// whom. A pure value: `ClientTracking` holds it under a lock and writes what it returns.
///
/// As Redis: a key read by a tracking client is remembered until its invalidation is sent,
/// then forgotten (one push per read); a client that stops tracking is removed lazily (its id
/// stays in keys' sets and is skipped). The table holds at most `maxKeys` keys (0: no bound);
/// a key forgotten to make room is announced first, as `tracking-table-max-keys` does.
struct TrackingTable: Sendable {
    /// What one client is told: these keys, or everything (the null form of `invalidate`).
    enum Notice: Equatable, Sendable {
        case keys([String])
        case all
    }

    /// One push: `client` is the tracking client; `target` is where it is written (itself or its redirect).
    struct Delivery: Equatable, Sendable {
        let client: Int
        let target: Int
        let notice: Notice
    }

    let maxKeys: Int
    private(set) var clients: [Int: TrackingOptions] = [:]
    /// A remembered key: the clients that read it, and when it was remembered (its place in `order`).
    private struct Entry {
        var readers: Set<Int>
        let stamp: UInt64
    }

    /// Remembered keys, by family.
    private var keys: [KeyFamily: [CacheKey: Entry]] = [:]
    private(set) var keyCount = 0
    /// Keys in the order they were remembered, for the bound; an entry whose stamp no longer
    /// matches the key's (forgotten, or forgotten and read again) is skipped.
    private var order: [(key: CacheKey, stamp: UInt64)] = []
    private var orderStart = 0
    private var nextStamp: UInt64 = 0
    /// Keys forgotten to keep the table within `maxKeys`.
    private(set) var evictions = 0

    init(maxKeys: Int) {
        self.maxKeys = maxKeys
    }

    var trackingClients: Int { clients.count }

    /// `CLIENT TRACKING ON` (also when changing options).
    mutating func enable(client: Int, options: TrackingOptions) {
        clients[client] = options
    }

    /// `CLIENT TRACKING OFF`, a closed connection.
    mutating func disable(client: Int) {
        clients.removeValue(forKey: client)
    }

    func options(of client: Int) -> TrackingOptions? { clients[client] }

    /// Clients that redirect to `target`.
    func clients(redirectingTo target: Int) -> [Int] {
        clients.compactMap { $0.value.redirect == target ? $0.key : nil }
    }

    /// `client` read `read`: remembers the keys for it, and returns the pushes of keys forgotten to make room.
    mutating func remember(_ read: [CacheKey], client: Int) -> [Delivery] {
        guard let options = clients[client], case .keys = options.mode else { return [] }
        for key in read {
            if keys[key.family]?[key] != nil {
                keys[key.family]?[key]?.readers.insert(client)
            } else {
                nextStamp += 1
                keys[key.family, default: [:]][key] = Entry(readers: [client], stamp: nextStamp)
                keyCount += 1
                order.append((key, nextStamp))
            }
        }
        return makeRoom()
    }

    private mutating func makeRoom() -> [Delivery] {
        guard maxKeys > 0, keyCount > maxKeys else { return [] }
        var forgotten: [CacheKey] = []
        var seen = Set<CacheKey>()
        while keyCount - forgotten.count > maxKeys, orderStart < order.count {
            let (key, stamp) = order[orderStart]
            orderStart += 1
            if keys[key.family]?[key]?.stamp == stamp, seen.insert(key).inserted { forgotten.append(key) }
        }
        evictions += forgotten.count
        let result = deliveries(for: forgotten, broadcasting: false)
        compactOrder()
        return result
    }

    /// The keys were invalidated: pushes for the clients that read them and the broadcasting clients.
    mutating func invalidate(_ invalidated: [CacheKey]) -> [Delivery] {
        let result = deliveries(for: invalidated)
        compactOrder()
        return result
    }

    /// Every key of these families was invalidated: the remembered ones are announced by name;
    /// a broadcasting client whose prefixes could match a key of the families is told
    /// everything (the keys are not known one by one: a family flush scans Redis).
    mutating func invalidate(families: Set<KeyFamily>) -> [Delivery] {
        var named: [CacheKey] = []
        for family in families { named += keys[family].map { Array($0.keys) } ?? [] }
        var result = deliveries(for: named, broadcasting: false)
        for (client, options) in clients.sorted(by: { $0.key < $1.key }) {
            guard case .broadcast(let prefixes) = options.mode,
                  families.contains(where: { Self.overlaps(prefixes, family: $0) }) else { continue }
            result.append(Delivery(client: client, target: options.redirect ?? client, notice: .all))
        }
        compactOrder()
        return result
    }

    /// Anything may have changed: every tracking client is told everything, and the table is emptied.
    mutating func invalidateAll() -> [Delivery] {
        keys = [:]
        keyCount = 0
        order = []
        orderStart = 0
        return clients.sorted { $0.key < $1.key }.map { Delivery(client: $0.key, target: $0.value.redirect ?? $0.key, notice: .all) }
    }

    /// Forgets `invalidated` and returns one push per client concerned, its keys in the order given.
    private mutating func deliveries(for invalidated: [CacheKey], broadcasting: Bool = true) -> [Delivery] {
        guard !invalidated.isEmpty else { return [] }
        var perClient: [Int: [String]] = [:]
        for key in invalidated {
            for client in forget(key) where clients[client] != nil {
                perClient[client, default: []].append(key.name)
            }
        }
        if broadcasting {
            for (client, options) in clients {
                guard case .broadcast(let prefixes) = options.mode else { continue }
                let matching = invalidated.lazy.map(\.name).filter { name in
                    prefixes.isEmpty || prefixes.contains { name.hasPrefix($0) }
                }
                if !matching.isEmpty { perClient[client, default: []] += matching }
            }
        }
        return perClient.sorted { $0.key < $1.key }.map { client, names in
            Delivery(client: client, target: clients[client]?.redirect ?? client, notice: .keys(names))
        }
    }

    /// Removes `key`; returns the clients that had read it.
    private mutating func forget(_ key: CacheKey) -> Set<Int> {
        guard let entry = keys[key.family]?.removeValue(forKey: key) else { return [] }
        keyCount -= 1
        return entry.readers
    }

    /// Drops the order's forgotten prefix once it is most of the array, so that it stays
    /// proportional to the keys remembered.
    private mutating func compactOrder() {
        if keyCount == 0 {
            order.removeAll(keepingCapacity: order.count < 4096)
            orderStart = 0
            return
        }
        guard order.count > 1024, order.count > 2 * keyCount else { return }
        order = order[orderStart...].filter { keys[$0.key.family]?[$0.key]?.stamp == $0.stamp }
        orderStart = 0
    }

    /// Whether a key of `family` could start with one of `prefixes` (an empty list matches every key).
    static func overlaps(_ prefixes: [String], family: KeyFamily) -> Bool {
        guard !prefixes.isEmpty else { return true }
        let sample = CacheKey(family: family, id: 1).name
        let stem = family.hasID ? String(sample.dropLast()) : sample  // `user:` or `leaderboard:weekly`
        return prefixes.contains { $0.hasPrefix(stem) || stem.hasPrefix($0) }
    }
}
