import Foundation
@testable import Gateway
import RESP
import Testing

/// Item 3 of issue 23: passwords as SHA-256 hashes (`#<hex>`, as Redis ACL) or read from a file,
/// so that neither the YAML nor the environment holds them.
@Suite struct CredentialTests {
    /// SHA-256 of "s3cret" (printf %s s3cret | sha256sum).
    static let hash = "#" + "1ec1c26b50d5d3c58d9583181af8076655fe00756bf7285940ba3670f99fcba0"

    @Test func aHashedPasswordAuthenticatesItsPasswordAndNothingElse() async throws {
        let configuration = try await ConfigurationLoader.load(
            file: nil, environment: ["QUICKSELL_SERVER_REQUIREPASS": Self.hash,
                                     "QUICKSELL_SERVER_USERS": "api:\(Self.hash.uppercased()):read"])
        let users = configuration.server.users
        #expect(users.verify(user: "default", password: "s3cret"))
        #expect(users.verify(user: "api", password: "s3cret"), "upper-case hex is a hash too")
        #expect(!users.verify(user: "default", password: Self.hash), "the hash itself is no password")
        #expect(!users.verify(user: "default", password: "s3cre"))
        #expect(!configuration.maskedDescription.contains("1ec1c26b"))

        try await withGateway(users: users) { server in
            let client = try RawClient(port: server.localPort)
            #expect(try client.command("AUTH", "wrong") == .error("WRONGPASS invalid username-password pair or user is disabled."))
            #expect(try client.command("AUTH", "default", Self.hash)
                == .error("WRONGPASS invalid username-password pair or user is disabled."))
            #expect(try client.command("PING") == .error("NOAUTH Authentication required."))
            #expect(try client.command("AUTH", "s3cret") == .simpleString("OK"))
            #expect(try client.command("PING") == .simpleString("PONG"))
            #expect(try RawClient(port: server.localPort).command("AUTH", "api", "s3cret") == .simpleString("OK"))
        }
    }

    @Test func aMalformedHashIsRefusedWithoutShowingIt() async throws {
        for bad in ["#abc", "#" + String(repeating: "g", count: 64), Self.hash + "0"] {
            await #expect {
                _ = try await ConfigurationLoader.load(file: nil, environment: ["QUICKSELL_SERVER_REQUIREPASS": bad])
            } throws: { error in
                "\(error)".contains("'server.requirepass'") && "\(error)".contains("64 hex digits") && !"\(error)".contains(bad)
            }
        }
        await #expect {
            _ = try await ConfigurationLoader.load(file: nil, environment: ["QUICKSELL_SERVER_USERS": "api:#1234:read"])
        } throws: { error in
            "\(error)".contains("'server.users'") && "\(error)".contains("user 'api'") && !"\(error)".contains("#1234")
        }
    }

    @Test func passwordsReadFromFiles() async throws {
        let password = try ConfigurationFiles.write("fromfile\n", suffix: ".secret")
        let users = try ConfigurationFiles.write("# the API tier\napi:apipass:read\n\nops:\(Self.hash):admin\n", suffix: ".users")
        defer { [password, users].forEach(ConfigurationFiles.remove) }
        let file = try ConfigurationFiles.write("server:\n  host: 0.0.0.0\n  requirepass_file: \(password)\n  users_file: \(users)\n")
        defer { ConfigurationFiles.remove(file) }
        let configuration = try await ConfigurationLoader.load(file: file, environment: [:])
        let directory = configuration.server.users
        #expect(directory.verify(user: "default", password: "fromfile"), "the trailing newline is not part of it")
        #expect(directory.verify(user: "api", password: "apipass") && directory.verify(user: "ops", password: "s3cret"))
        #expect(!directory.isAdmin("api") && directory.isAdmin("ops"))
        let text = configuration.maskedDescription
        #expect(text.contains("server.requirepass_file: \(password)") && text.contains("server.users_file: \(users)"))
        #expect(text.contains("server.requirepass: ******** (from server.requirepass_file)"))
        #expect(!text.contains("fromfile") && !text.contains("apipass"))

        try await withGateway(users: directory) { server in
            let client = try RawClient(port: server.localPort)
            #expect(try client.command("AUTH", "fromfile") == .simpleString("OK"))
            #expect(try client.command("AUTH", "api", "wrong") == .error("WRONGPASS invalid username-password pair or user is disabled."))
        }
    }

    @Test func aMissingOrUnreadableFileIsNamed() async throws {
        let directory = NSTemporaryDirectory() + "qs-secrets-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { ConfigurationFiles.remove(directory) }
        let cases: [(key: String, path: String, reason: String)] = [
            ("QUICKSELL_SERVER_REQUIREPASS_FILE", "/nonexistent/gateway.secret", "No such file or directory"),
            ("QUICKSELL_SERVER_USERS_FILE", "/nonexistent/users", "No such file or directory"),
            ("QUICKSELL_SERVER_REQUIREPASS_FILE", directory, "Is a directory"),
        ]
        for (variable, path, reason) in cases {
            await #expect {
                _ = try await ConfigurationLoader.load(file: nil, environment: [variable: path])
            } throws: { error in
                "\(error)".contains(variable) && "\(error)".contains("'\(path): \(reason)'")
            }
        }
        let empty = try ConfigurationFiles.write("\n", suffix: ".secret")
        defer { ConfigurationFiles.remove(empty) }
        await #expect {
            _ = try await ConfigurationLoader.load(file: nil, environment: ["QUICKSELL_SERVER_REQUIREPASS_FILE": empty])
        } throws: { error in
            "\(error)".contains("\(empty): an empty file")
        }
        await #expect {
            _ = try await ConfigurationLoader.load(file: nil, environment: ["QUICKSELL_SERVER_REQUIREPASS_FILE": empty,
                                                                            "QUICKSELL_SERVER_REQUIREPASS": "pw"])
        } throws: { error in
            "\(error)".contains("not both")
        }
    }
}
