import CacheModel

/// Points where the end-to-end tests can pause a fill, to reach races through a running
/// gateway (the decisions themselves are unit-tested on `FillScheduler`). Production passes
/// the empty default, which costs one nil check per batch.
package struct FillHooks: Sendable {
    /// Runs on the pool thread after a batch's query returned and before its values are
    /// stored or handed out. Blocking here holds that fill.
    package var afterQuery: (@Sendable ([CacheKey]) -> Void)?

    package init(afterQuery: (@Sendable ([CacheKey]) -> Void)? = nil) {
        self.afterQuery = afterQuery
    }
}
