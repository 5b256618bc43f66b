/// The places of the metrics port's connections, and who gives one up when all are taken.
///
/// A full port that refused every newcomer would let idle connections (an attack, or a client
/// that leaks them) keep the readiness probe out for as long as they stay. Instead the newcomer
/// takes the place of the longest-waiting connection that has not sent a request yet: a probe,
/// which sends its request at once, gets answered, while idle connections churn. Only when every
/// place is held by a connection that is being answered is the newcomer refused. Pure: the
/// endpoints close the connection it names.
struct ConnectionPlaces<ID: Hashable> {
    enum Admission: Equatable {
        case admitted
        /// Admitted in the place of this connection, which has sent nothing: close it.
        case admittedDisplacing(ID)
        /// Every place is held by a connection that sent a request.
        case refused
    }

    let capacity: Int
    /// Connections holding a place.
    private(set) var count = 0
    /// Those that have sent no request yet, oldest first; entries of connections that since
    /// sent one or closed are skipped when met.
    private var silent: [ID] = []
    private var silentHead = 0
    private var isSilent: Set<ID> = []

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Entries kept in the silent queue (tests: it must not grow with connections that came and went).
    var queuedEntries: Int { silent.count - silentHead }

    mutating func admit(_ id: ID) -> Admission {
        if count < capacity {
            count += 1
            markSilent(id)
            return .admitted
        }
        guard let oldest = takeOldestSilent() else { return .refused }
        markSilent(id)  // the displaced one's place goes to the newcomer: the count stays
        return .admittedDisplacing(oldest)
    }

    /// `id` sent a request: it no longer gives up its place to a newcomer.
    mutating func requestArrived(_ id: ID) {
        isSilent.remove(id)
        compact()
    }

    /// `id` closed (whatever the reason). A displaced connection's place was already handed on.
    mutating func closed(_ id: ID, displaced: Bool) {
        isSilent.remove(id)
        if !displaced { count = max(0, count - 1) }
        compact()
    }

    private mutating func markSilent(_ id: ID) {
        silent.append(id)
        isSilent.insert(id)
    }

    private mutating func takeOldestSilent() -> ID? {
        while silentHead < silent.count {
            let candidate = silent[silentHead]
            silentHead += 1
            if isSilent.remove(candidate) != nil {
                compact()
                return candidate
            }
        }
        compact()
        return nil
    }

    /// Skips the front entries that are no longer silent and drops the consumed front now and
    /// then: entries live no longer than their connection stays silent (the request deadline).
    private mutating func compact() {
        while silentHead < silent.count && !isSilent.contains(silent[silentHead]) { silentHead += 1 }
        guard silentHead > 64 && silentHead * 2 > silent.count else { return }
        silent.removeFirst(silentHead)
        silentHead = 0
    }
}

extension ConnectionPlaces.Admission: Sendable where ID: Sendable {}
extension ConnectionPlaces: Sendable where ID: Sendable {}
