import NIOCore
import NIOSSL

/// How to check a Redis server over TLS (`rediss://`), as files and names: what the
/// configuration holds. `RedisTLS.make` reads the files.
public struct RedisTLSSettings: Sendable, Equatable {
    /// PEM CA certificates that sign the server's certificate; nil: the system's trust store.
    public var caCertificateFile: String?
    /// PEM client certificate and its key, for a Redis with `tls-auth-clients yes`; both or neither.
    public var certificateFile: String?
    public var keyFile: String?
    /// The name sent in SNI and looked for in the certificate; nil: the host of each address
    /// (an IP address is then checked against the certificate's IP entries).
    public var serverName: String?
    /// Whether the certificate must name the server (on by default); off, only its chain is checked.
    public var verifyServerName: Bool

    public init(caCertificateFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil,
                serverName: String? = nil, verifyServerName: Bool = true) {
        self.caCertificateFile = caCertificateFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.serverName = serverName
        self.verifyServerName = verifyServerName
    }
}

/// A TLS file that could not be used; names the setting and the path, never a key's bytes.
public struct RedisTLSError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Which file: `CA certificate`, `client certificate`, `client key`.
    public let file: String
    public let path: String
    public let problem: String

    public var description: String { "Redis TLS \(file) \(path): \(problem)" }
}

/// The TLS side of Redis connections, made once at start-up and shared by every connection
/// (and every cluster node): the context with its trust roots and client certificate, and the
/// name to check.
public struct RedisTLS: Sendable {
    let context: NIOSSLContext
    let settings: RedisTLSSettings

    public static func make(_ settings: RedisTLSSettings) throws(RedisTLSError) -> RedisTLS {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateVerification = settings.verifyServerName ? .fullVerification : .noHostnameVerification
        if let caFile = settings.caCertificateFile {
            configuration.trustRoots = .certificates(try certificates(caFile, file: "CA certificate"))
        }
        switch (settings.certificateFile, settings.keyFile) {
        case (let certificateFile?, let keyFile?):
            configuration.certificateChain = try certificates(certificateFile, file: "client certificate").map { .certificate($0) }
            do {
                configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
            } catch {
                throw RedisTLSError(file: "client key", path: keyFile, problem: "not a readable PEM private key (\(error))")
            }
        case (nil, nil):
            break
        case (let certificateFile?, nil):
            throw RedisTLSError(file: "client certificate", path: certificateFile, problem: "given without its key file")
        case (nil, let keyFile?):
            throw RedisTLSError(file: "client key", path: keyFile, problem: "given without its certificate file")
        }
        do {
            return RedisTLS(context: try NIOSSLContext(configuration: configuration), settings: settings)
        } catch {
            throw RedisTLSError(file: "client key", path: settings.keyFile ?? "(none)",
                                problem: "cannot make the TLS context: \(error)")
        }
    }

    /// What a connection to `host` sends in SNI and checks the certificate against: the
    /// configured name, else the host unless it is an IP address (NIOSSL then checks the
    /// certificate's IP entries against the connected address).
    func serverHostname(for host: String) -> String? {
        if let name = settings.serverName { return name }
        return (try? SocketAddress(ipAddress: host, port: 0)) == nil ? host : nil
    }

    private static func certificates(_ path: String, file: String) throws(RedisTLSError) -> [NIOSSLCertificate] {
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(path)
        } catch {
            throw RedisTLSError(file: file, path: path, problem: "not a readable PEM file (\(error))")
        }
        guard !certificates.isEmpty else { throw RedisTLSError(file: file, path: path, problem: "no certificate in it") }
        return certificates
    }

    /// A TLS failure in words an operator acts on: the certificate's chain, its name (`host`:
    /// the one looked for, or the address connected to), or the handshake itself.
    func describe(_ error: any Error, host: String) -> String {
        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
            return "TLS host name mismatch: the server's certificate does not name \(serverHostname(for: host) ?? host)"
        }
        return Self.describe(error) ?? LoopConnection.describe(error)
    }

    /// The same without the name looked for.
    static func describe(_ error: any Error) -> String? {
        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
            return "TLS host name mismatch: \(extra)"
        }
        if let sslError = error as? NIOSSLError {
            let text = "\(sslError)"
            if text.contains("CERTIFICATE_VERIFY_FAILED") {
                return "TLS certificate verify failed (not signed by a trusted CA, or expired): \(text)"
            }
            return "TLS handshake failed: \(text)"
        }
        if error is NIOSSLExtraError || error is BoringSSLError { return "TLS handshake failed: \(error)" }
        return nil
    }
}
