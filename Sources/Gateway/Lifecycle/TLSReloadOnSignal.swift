import Logging
import ServiceLifecycle
import UnixSignals

/// SIGHUP re-reads the TLS certificate, key and CA files (as `CONFIG SET tls-cert-file` does
/// for Redis): rotating a certificate needs no restart and drops no connection. Registered only
/// for a process that owns its signals and has a TLS port; a reload that fails is logged and
/// the certificate in use stays.
struct TLSReloadOnSignal: Service {
    let server: GatewayServer
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            do {
                try server.reloadTLS()
            } catch {
                logger.error("TLS reload failed; the previous certificate stays in use", metadata: ["error": "\(error)"])
            }
        }
    }
}
