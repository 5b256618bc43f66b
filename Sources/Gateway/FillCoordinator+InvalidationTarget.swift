import Invalidation
import ReadThrough

/// Fills under way are what invalidation must stop before it unlinks a key: a value read
/// before the write is then never stored after it.
extension FillCoordinator: InvalidationTarget {}
