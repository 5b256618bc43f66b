import HiredisClient

extension HiredisConnection {
    /// A connection to a run's target; a failure is the run's `unreachable` error.
    static func connect(host: String, port: Int, timeoutSeconds: Int) throws(RunError) -> HiredisConnection {
        do throws(HiredisError) {
            return try HiredisConnection(host: host, port: port, timeoutSeconds: timeoutSeconds)
        } catch {
            throw RunError(error)
        }
    }
}

extension RunError {
    /// Any hiredis failure of a run reads as its target being unreachable.
    init(_ error: HiredisError) {
        self = .unreachable(target: error.address, message: error.reason)
    }
}
