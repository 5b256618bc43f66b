import CacheModel

/// `near_cache.*`: how much the gateway keeps in its own memory, for which families and how long.
public struct NearCacheSettings: Sendable, Equatable {
    /// 0 turns the near cache off.
    public var maxBytes: Int
    /// How long a value is served from memory at most; never longer than its family's TTL.
    public var ttlSeconds: Int
    public var families: Set<KeyFamily>

    public init(maxBytes: Int = 64 << 20, ttlSeconds: Int = 60, families: Set<KeyFamily> = Set(KeyFamily.allCases)) {
        self.maxBytes = maxBytes
        self.ttlSeconds = ttlSeconds
        self.families = families
    }

    public var isEnabled: Bool { maxBytes > 0 && ttlSeconds > 0 && !families.isEmpty }
}
