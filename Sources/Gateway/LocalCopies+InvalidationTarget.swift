import Invalidation
import ReadThrough

/// Fills under way and the near cache are what invalidation must reach before it unlinks a
/// key: a value read before the write is then neither stored nor kept after it.
extension LocalCopies: InvalidationTarget {}
