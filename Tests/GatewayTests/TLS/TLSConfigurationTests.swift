import Foundation
@testable import Gateway
import Testing

/// The TLS keys as the loader reads them: what is required with `server.tls_port`, files that
/// are missing or not PEM (named by key and path), and `server.plaintext: no`.
@Suite(.timeLimit(.minutes(1)))
struct TLSConfigurationTests {
    @Test func aTLSPortNeedsReadablePEMFiles() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        await #expect {
            _ = try await ConfigurationLoader.load(file: nil, environment: ["QUICKSELL_SERVER_TLS_PORT": "16399"])
        } throws: { "\($0)".contains("'server.tls_cert_file'") && "\($0)".contains("server.tls_port") }
        let missing = certificates.path("nowhere.pem")
        await #expect {
            _ = try await ConfigurationLoader.load(file: nil, environment: [
                "QUICKSELL_SERVER_TLS_PORT": "16399", "QUICKSELL_SERVER_TLS_CERT_FILE": missing,
                "QUICKSELL_SERVER_TLS_KEY_FILE": certificates.serverKey,
            ])
        } throws: { "\($0)".contains("'server.tls_cert_file'") && "\($0)".contains(missing) }
        // A certificate where the key should be: named by the key's setting, its bytes never shown.
        await #expect {
            _ = try await ConfigurationLoader.load(file: nil, environment: [
                "QUICKSELL_SERVER_TLS_PORT": "16399", "QUICKSELL_SERVER_TLS_CERT_FILE": certificates.serverCertificate,
                "QUICKSELL_SERVER_TLS_KEY_FILE": certificates.serverCertificate,
            ])
        } throws: { "\($0)".contains("'server.tls_key_file'") && "\($0)".contains(certificates.serverCertificate) }
        // A key that is not the certificate's.
        await #expect {
            _ = try await ConfigurationLoader.load(file: nil, environment: [
                "QUICKSELL_SERVER_TLS_PORT": "16399", "QUICKSELL_SERVER_TLS_CERT_FILE": certificates.serverCertificate,
                "QUICKSELL_SERVER_TLS_KEY_FILE": certificates.clientKey,
            ])
        } throws: { "\($0)".contains("'server.tls_key_file'") && "\($0)".contains(certificates.clientKey) }
        await #expect {
            _ = try await ConfigurationLoader.load(file: nil, environment: [
                "QUICKSELL_SERVER_TLS_PORT": "16399", "QUICKSELL_SERVER_TLS_CERT_FILE": certificates.serverCertificate,
                "QUICKSELL_SERVER_TLS_KEY_FILE": certificates.serverKey, "QUICKSELL_SERVER_TLS_CA_CERT_FILE": missing,
            ])
        } throws: { "\($0)".contains("'server.tls_ca_cert_file'") && "\($0)".contains(missing) }
    }

    @Test func theKeysLoadAndShowInTheDescription() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        let file = try ConfigurationFiles.write("""
            server:
              port: 16398
              plaintext: no
              tls_port: 16399
              tls_cert_file: \(certificates.serverCertificate)
              tls_key_file: \(certificates.serverKey)
              tls_ca_cert_file: \(certificates.caCertificate)
            """)
        defer { ConfigurationFiles.remove(file) }
        let configuration = try await ConfigurationLoader.load(file: file, environment: [:])
        #expect(!configuration.server.plaintext)
        #expect(configuration.server.tls == TLSSettings(
            port: 16399, certificateFile: certificates.serverCertificate, keyFile: certificates.serverKey,
            caCertificateFile: certificates.caCertificate))
        let description = configuration.maskedDescription
        #expect(description.contains("server.tls_port: 16399\n") && description.contains("server.plaintext: no\n")
                && description.contains("server.tls_ca_cert_file: \(certificates.caCertificate)\n"))
        let defaults = try await ConfigurationLoader.load(file: nil, environment: [:])
        #expect(defaults.server.plaintext && defaults.server.tls == nil)
        #expect(defaults.maskedDescription.contains("server.tls_port: 0 (no TLS listener)"))
    }

    @Test func plaintextOffNeedsATLSPortAndTheTwoPortsDiffer() async throws {
        await #expect {
            _ = try await ConfigurationLoader.load(file: nil, environment: ["QUICKSELL_SERVER_PLAINTEXT": "no"])
        } throws: { "\($0)".contains("'server.plaintext'") && "\($0)".contains("server.tls_port") }
        await #expect {
            _ = try await ConfigurationLoader.load(file: nil, environment: [
                "QUICKSELL_SERVER_PORT": "16399", "QUICKSELL_SERVER_TLS_PORT": "16399",
            ])
        } throws: { "\($0)".contains("'server.tls_port'") && "\($0)".contains("server.port") }
    }
}
