/// The listener of one invalidation source (`InvalidationListener` for the stream,
/// `NotifyListener` for notifications): a thread of its own that applies what PostgreSQL
/// reports through the `Invalidator`. `InvalidationService` runs the one it chose.
package protocol SourceListener: Sendable {
    var status: ListenerStatus { get }
    /// Starts the thread; returns once its first connection has caught up (or failed, or
    /// its start-up time passed).
    func start() async
    /// Stops the thread and returns once it has.
    func stop() async
    /// What `/readyz` says while connected but not caught up.
    var catchingUpProblem: String { get }
    /// The source's own `INFO invalidation` lines.
    var sourceInfoLines: [(String, String)] { get }
}
