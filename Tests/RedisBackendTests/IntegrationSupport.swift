import Foundation
import NIOCore
import NIOPosix
import RESP
import RedisBackend
import TestSupport

/// The shared test Redis (`QUICKSELL_TEST_REDIS_URL`), with test-friendly settings applied by `adjust`.
func testConfiguration(_ adjust: (inout RedisClientConfiguration) -> Void = { _ in }) throws -> RedisClientConfiguration {
    var configuration = try RedisClientConfiguration(url: try TestEnvironment.redisURL())
    adjust(&configuration)
    return configuration
}

/// Runs `body` with a client on a fresh event loop group, and always shuts both down.
@discardableResult
func withClient<T>(
    _ configuration: RedisClientConfiguration, loops: Int = 2,
    _ body: (RedisClient, MultiThreadedEventLoopGroup) async throws -> T
) async throws -> T {
    try await withClient(loops: loops, make: { RedisClient(configuration: configuration, group: $0) }, body)
}

/// Runs `body` with the client `make` builds on a fresh event loop group (a single-node or a
/// cluster client), and always shuts both down.
@discardableResult
func withClient<T>(
    loops: Int, make: (MultiThreadedEventLoopGroup) throws -> RedisClient,
    _ body: (RedisClient, MultiThreadedEventLoopGroup) async throws -> T
) async throws -> T {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: loops)
    let client: RedisClient
    do {
        client = try make(group)
    } catch {
        try await group.shutdownGracefully()
        throw error
    }
    do {
        let result = try await body(client, group)
        await client.shutdown()
        try await group.shutdownGracefully()
        return result
    } catch {
        await client.shutdown()
        try await group.shutdownGracefully()
        throw error
    }
}

/// A key prefix of our own on the shared Redis (never FLUSHALL it).
func uniquePrefix(_ label: String) -> String {
    "rbtest:\(label):\(ProcessInfo.processInfo.processIdentifier):\(UInt32.random(in: 0...UInt32.max))"
}

extension RESPValue {
    /// The payload of a bulk or simple string as text.
    var text: String? {
        switch self {
        case .bulkString(let b), .simpleString(let b), .error(let b): return String(buffer: b)
        default: return nil
        }
    }
}

/// A port on 127.0.0.1 that nobody listened on a moment ago.
func freeLocalPort() async throws -> Int {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
    let port = channel.localAddress?.port ?? 0
    try await channel.close()
    return port
}

/// A `redis-server` of our own (with a password), stopped by its PID.
final class PrivateRedisServer {
    let port: Int
    private let process: Process

    init(password: String) async throws {
        port = try await freeLocalPort()
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        process.arguments = [
            "--port", "\(port)", "--bind", "127.0.0.1", "--requirepass", password,
            "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", NSTemporaryDirectory(),
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        try await waitUntilListening()
    }

    /// Polls the port for up to 5 s.
    private func waitUntilListening() async throws {
        for _ in 0..<100 {
            if let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get() {
                try? await channel.close()
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        stop()
        throw ServerDidNotStart(port: port)
    }

    /// SIGKILL by PID: the child inherits the test runner's blocked signal mask, so SIGTERM
    /// would wait forever, and with `--save ''` there is nothing to lose.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    struct ServerDidNotStart: Error, CustomStringConvertible {
        let port: Int
        var description: String { "redis-server did not listen on 127.0.0.1:\(port) within 5 s" }
    }
}

/// A TCP listener on 127.0.0.1 that accepts connections and never answers: a hung Redis.
final class SilentListener {
    let port: Int
    private let channel: any Channel

    init() async throws {
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { $0.eventLoop.makeSucceededVoidFuture() }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
    }

    func stop() async throws {
        try await channel.close()
    }
}
