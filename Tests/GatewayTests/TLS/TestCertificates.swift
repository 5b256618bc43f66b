import Foundation
import Gateway

/// Certificates made by `openssl` in a throwaway directory: a CA, a server certificate for
/// 127.0.0.1 and localhost, one for the name redis.test only, a client certificate, a second (wrong) CA, an expired server
/// certificate and a second valid server certificate (to see a reload). EC P-256 keys: quick
/// to make.
struct TestCertificates {
    let directory: URL

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    var caCertificate: String { path("ca.pem") }
    var serverCertificate: String { path("server.pem") }
    var serverKey: String { path("server.key") }
    var clientCertificate: String { path("client.pem") }
    var clientKey: String { path("client.key") }
    var wrongCACertificate: String { path("wrong-ca.pem") }
    var expiredCertificate: String { path("expired.pem") }
    var expiredKey: String { path("expired.key") }
    var renewedCertificate: String { path("renewed.pem") }
    var renewedKey: String { path("renewed.key") }
    /// A server certificate for the name `redis.test` only (no IP address entry).
    var namedCertificate: String { path("named.pem") }
    var namedKey: String { path("named.key") }

    /// The TLS listener with the good server certificate on a free port.
    var serverSettings: TLSSettings {
        TLSSettings(port: 0, certificateFile: serverCertificate, keyFile: serverKey)
    }

    static func make() async throws -> TestCertificates {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("quicksell-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let certificates = TestCertificates(directory: directory)
        try await certificates.makeCA("ca", commonName: "QuickSell Test CA")
        try await certificates.makeCA("wrong-ca", commonName: "Some Other CA")
        let serverNames = "subjectAltName=IP:127.0.0.1,DNS:localhost"
        try await certificates.makeSigned("server", commonName: "gateway-first", days: "2", extensions: serverNames)
        try await certificates.makeSigned("renewed", commonName: "gateway-renewed", days: "2", extensions: serverNames)
        try await certificates.makeSigned("expired", commonName: "gateway-expired", days: "-1", extensions: serverNames)
        try await certificates.makeSigned("named", commonName: "redis.test", days: "2", extensions: "subjectAltName=DNS:redis.test")
        try await certificates.makeSigned("client", commonName: "api-client", days: "2", extensions: "extendedKeyUsage=clientAuth")
        return certificates
    }

    /// Copies of the server certificate and key that a test may replace (`replaceLiveWithRenewed`) before a reload.
    func makeLiveCopy() throws -> (certificate: String, key: String) {
        try FileManager.default.copyItem(atPath: serverCertificate, toPath: path("live.pem"))
        try FileManager.default.copyItem(atPath: serverKey, toPath: path("live.key"))
        return (path("live.pem"), path("live.key"))
    }

    /// Puts the renewed certificate and its key in place of the live copies.
    func replaceLiveWithRenewed() throws {
        for (live, renewed) in [("live.pem", renewedCertificate), ("live.key", renewedKey)] {
            try FileManager.default.removeItem(atPath: path(live))
            try FileManager.default.copyItem(atPath: renewed, toPath: path(live))
        }
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }

    private func makeCA(_ name: String, commonName: String) async throws {
        try await openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                           "-keyout", path("\(name).key"), "-out", path("\(name).pem"), "-days", "2", "-subj", "/CN=\(commonName)"])
    }

    /// A certificate signed by `ca`; `days` -1 makes one whose validity ended before it began.
    private func makeSigned(_ name: String, commonName: String, days: String, extensions: String) async throws {
        try await openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                           "-keyout", path("\(name).key"), "-out", path("\(name).csr"), "-subj", "/CN=\(commonName)"])
        let extensionFile = path("\(name).ext")
        try Data((extensions + "\n").utf8).write(to: URL(fileURLWithPath: extensionFile))
        try await openssl(["x509", "-req", "-in", path("\(name).csr"), "-CA", caCertificate, "-CAkey", path("ca.key"),
                           "-CAcreateserial", "-days", days, "-extfile", extensionFile, "-out", path("\(name).pem")])
    }

    private func openssl(_ arguments: [String]) async throws {
        let result = try await runProcess("/usr/bin/openssl", arguments, timeout: .seconds(20))
        guard result.status == 0, !result.timedOut else {
            throw TestFailure("openssl \(arguments.joined(separator: " ")) failed: \(result.stderr)")
        }
    }
}
