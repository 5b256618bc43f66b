import NIOSSL
import Synchronization

/// The TLS listener's current context. Each accepted connection takes the context current at
/// its accept, so a reload (SIGHUP) serves new connections the new certificate while the
/// connections already open keep theirs: none is dropped.
final class TLSContextHolder: Sendable {
    let settings: TLSSettings
    private let current: Mutex<NIOSSLContext>

    /// Reads the files now: a bad one stops start-up.
    init(settings: TLSSettings) throws {
        self.settings = settings
        self.current = Mutex(try ServerTLS.makeContext(settings))
    }

    var context: NIOSSLContext { current.withLock { $0 } }

    /// Reads the files again and swaps the context in; on failure the old one stays in use.
    func reload() throws {
        let fresh = try ServerTLS.makeContext(settings)
        current.withLock { $0 = fresh }
    }
}
