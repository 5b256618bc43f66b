import Foundation
import Gateway
import Logging
import NIOCore
import NIOPosix
import TestSupport

/// Runs `body` against a fresh in-process gateway bound to 127.0.0.1 on a free port,
/// and shuts it down afterwards, whether `body` succeeds or throws.
func withGateway<T>(
    maxClients: Int = 10_000,
    idleTimeoutSeconds: Int = 0,
    requestTimeoutSeconds: Int = 10,
    users: UserDirectory = UserDirectory(),
    logger: Logger? = nil,
    configure: (inout ServerConfiguration) -> Void = { _ in },
    _ body: (GatewayServer) async throws -> T
) async throws -> T {
    var quiet = Logger(label: "quicksell.gateway.test")
    quiet.logLevel = .critical
    let logger = logger ?? quiet
    var configuration = ServerConfiguration(
        host: "127.0.0.1", port: 0, eventLoopThreads: 2, maxClients: maxClients,
        idleTimeoutSeconds: idleTimeoutSeconds, requestTimeoutSeconds: requestTimeoutSeconds, users: users)
    configure(&configuration)
    let server = try await GatewayServer.start(configuration: configuration, logger: logger)
    do {
        let result = try await body(server)
        await server.shutdown()
        return result
    } catch {
        await server.shutdown()
        throw error
    }
}

/// Polls `condition` every 10 ms until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration = .seconds(10), _ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try condition()
}

/// The port of the reference Redis 7 that `make test` runs (QUICKSELL_TEST_REDIS_URL),
/// once it accepts connections (it may be restarting: wait up to 10 s).
func referenceRedisPort() async throws -> Int {
    let url = try TestEnvironment.redisURL()
    guard let components = URLComponents(string: url), let port = components.port else {
        throw TestFailure("cannot read a port from QUICKSELL_TEST_REDIS_URL=\(url)")
    }
    let reachable = await eventually(timeout: .seconds(10)) {
        (try? RawClient(port: port, receiveTimeout: .seconds(2)).command("PING")) == .simpleString("PONG")
    }
    guard reachable else { throw TestFailure("the reference Redis at \(url) does not answer PING") }
    return port
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Paths inside this checkout, found from this source file's location.
enum RepoPaths {
    /// Tests/GatewayTests/Support/TestServer.swift → repository root.
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func compatScript(_ name: String) -> String {
        root.appendingPathComponent("Tests/compat").appendingPathComponent(name).path
    }

    /// The built `quicksell-gateway` next to the test bundle (same configuration), or the one
    /// `QUICKSELL_TEST_GATEWAY_EXECUTABLE` names (a release build, for the latency figures).
    static func gatewayExecutable() throws -> String {
        if let path = ProcessInfo.processInfo.environment["QUICKSELL_TEST_GATEWAY_EXECUTABLE"], !path.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw TestFailure("QUICKSELL_TEST_GATEWAY_EXECUTABLE=\(path) is not an executable")
            }
            return path
        }
        return try builtExecutable("quicksell-gateway")
    }

    /// The package's executable `name` next to the test bundle (same configuration).
    static func builtExecutable(_ name: String) throws -> String {
        var candidates: [URL] = []
        // The test runner lives in the build folder (.build/<triple>/debug/…xctest).
        if let runner = Bundle.main.executableURL {
            candidates.append(runner.deletingLastPathComponent().appendingPathComponent(name))
        }
        candidates.append(root.appendingPathComponent(".build/debug").appendingPathComponent(name))
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate.path) {
            return candidate.path
        }
        throw TestFailure("\(name) executable not found (looked at \(candidates.map(\.path))); run `swift build --build-tests` first")
    }
}
