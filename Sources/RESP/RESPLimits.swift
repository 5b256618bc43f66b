/// Bounds applied by both decoders, so that a hostile or broken peer can never make the
/// gateway buffer or allocate without limit. The defaults mirror Redis's own server limits.
public struct RESPLimits: Sendable, Hashable {
    /// Largest bulk string payload accepted, in bytes (Redis `proto-max-bulk-len`, 512 MiB).
    /// An announced length above it is rejected as soon as its header line is read.
    public var maxBulkLength: Int
    /// Largest element count of one array, set, push, map or attribute (for maps and attributes,
    /// the number of pairs). Redis accepts up to 1024*1024*1024 for an authenticated client.
    public var maxAggregateElements: Int
    /// Deepest nesting of aggregates in one value; the outermost array is depth 1.
    /// Requests are flat and replies nest shallowly, so 32 leaves ample room.
    public var maxNestingDepth: Int
    /// Longest inline command line and longest header or simple line, in bytes
    /// (Redis `PROTO_INLINE_MAX_SIZE`, 64 KiB).
    public var maxInlineLength: Int

    public init(
        maxBulkLength: Int = 512 * 1024 * 1024,
        maxAggregateElements: Int = 1024 * 1024 * 1024,
        maxNestingDepth: Int = 32,
        maxInlineLength: Int = 64 * 1024
    ) {
        // Clamped so that offset arithmetic on them can never overflow.
        let ceiling = Int(Int32.max)
        self.maxBulkLength = min(max(0, maxBulkLength), ceiling)
        self.maxAggregateElements = min(max(0, maxAggregateElements), ceiling)
        self.maxNestingDepth = min(max(1, maxNestingDepth), 10_000)
        self.maxInlineLength = min(max(1, maxInlineLength), ceiling)
    }

    /// Redis's defaults.
    public static let `default` = RESPLimits()
}
