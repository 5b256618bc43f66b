import CacheModel
import Synchronization

/// `--mode miss-only`: hands out every key of the run's families exactly once, shared by
/// all reader threads, so that against a cold cache every GET is a miss on a key nobody
/// asked for before (the fill path at full speed, with no single-flight sharing).
///
/// The order is the universe's seeded shuffle, family after family; `next()` returns nil
/// once every key has been handed out, which ends the run.
public final class DistinctKeyCursor: Sendable {
    public struct Entry: Sendable, Equatable {
        public var family: KeyFamily
        public var id: Int
        public var key: String { family.key(id) }
    }

    private let entries: [Entry]
    private let nextIndex = Atomic<Int>(0)

    public init(families: [KeyFamily], universe: KeyUniverse) {
        entries = families.flatMap { family -> [Entry] in
            guard let source = family.idSource else { return [Entry(family: family, id: 0)] }
            return universe.ids(source).map { Entry(family: family, id: $0) }
        }
    }

    public var count: Int { entries.count }

    /// The next key nobody has been given yet, or nil when all were handed out.
    public func next() -> Entry? {
        let index = nextIndex.wrappingAdd(1, ordering: .relaxed).oldValue
        return index < entries.count ? entries[index] : nil
    }
}
