import CacheModel

/// Points where tests can pause a fill, to make races deterministic. Production passes
/// the empty default, which costs one nil check per batch.
public struct FillHooks: Sendable {
    /// Runs on the pool thread after a batch's query returned and before its values are
    /// stored or handed out. Blocking here holds that fill.
    public var afterQuery: (@Sendable ([CacheKey]) -> Void)?

    public init(afterQuery: (@Sendable ([CacheKey]) -> Void)? = nil) {
        self.afterQuery = afterQuery
    }
}
