import NIOCore
import NIOSSL

/// The TLS listener's settings, named as Redis names them (`tls-port`, `tls-cert-file`,
/// `tls-key-file`, `tls-ca-cert-file`).
public struct TLSSettings: Sendable, Equatable {
    /// `server.tls_port`; 0 asks the OS for a free port (in-process tests). The configuration
    /// file's 0 means no TLS listener at all, so it never reaches here.
    public var port: Int
    /// PEM: the server certificate, then any intermediates.
    public var certificateFile: String
    /// PEM: the certificate's private key.
    public var keyFile: String
    /// PEM CA certificates. When set, every client must present a certificate signed by one of
    /// them (Redis's `tls-auth-clients yes`); when nil, clients need none.
    public var caCertificateFile: String?

    public init(port: Int, certificateFile: String, keyFile: String, caCertificateFile: String? = nil) {
        self.port = port
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.caCertificateFile = caCertificateFile
    }
}

/// Builds the server's TLS context from the files of `TLSSettings`: at start-up, at
/// `--check-config` and at each reload (SIGHUP). A file that is missing, unreadable or not
/// PEM stops it with an error naming the key and the path.
enum ServerTLS {
    static let certificateKey = "server.tls_cert_file"
    static let privateKeyKey = "server.tls_key_file"
    static let caCertificateKey = "server.tls_ca_cert_file"

    static func makeContext(_ settings: TLSSettings) throws -> NIOSSLContext {
        let chain = try certificates(settings.certificateFile, key: certificateKey)
        let privateKey = try privateKey(settings.keyFile)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
        // TLS 1.0 and 1.1 are deprecated (RFC 8996).
        configuration.minimumTLSVersion = .tlsv12
        if let caFile = settings.caCertificateFile {
            // Client certificates carry no host name to check: only the chain is verified.
            configuration.certificateVerification = .noHostnameVerification
            configuration.trustRoots = .certificates(try certificates(caFile, key: caCertificateKey))
        } else {
            configuration.certificateVerification = .none
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw ConfigurationError(
                key: privateKeyKey, expected: "the private key of the certificate in \(certificateKey) (\(settings.certificateFile))",
                found: "\(settings.keyFile): \(error)")
        }
    }

    private static func certificates(_ path: String, key: String) throws -> [NIOSSLCertificate] {
        let text = try CredentialFile.read(path, key: key)
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(Array(text.utf8))
        } catch {
            throw ConfigurationError(key: key, expected: "a file of PEM certificates", found: "\(path): \(error)")
        }
        guard !certificates.isEmpty else {
            throw ConfigurationError(key: key, expected: "a file of PEM certificates", found: "\(path): no certificate in it")
        }
        return certificates
    }

    private static func privateKey(_ path: String) throws -> NIOSSLPrivateKey {
        let text = try CredentialFile.read(path, key: privateKeyKey)
        do {
            return try NIOSSLPrivateKey(bytes: Array(text.utf8), format: .pem)
        } catch {
            // The path only: the key's bytes are a secret.
            throw ConfigurationError(key: privateKeyKey, expected: "a PEM private key (not encrypted)", found: "\(path): \(error)")
        }
    }
}
