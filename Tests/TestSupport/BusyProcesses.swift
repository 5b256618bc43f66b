#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Processes that keep every core busy, as a build beside the tests does: one `yes > /dev/null`
/// per core, each under `timeout`, so that it ends by itself after `bound` even if the test
/// process dies, and stopped by its own pid (never by name) when the test is done.
///
/// For tests whose guarantee must hold on a busy machine (the scheduler then makes the gateway,
/// Redis and PostgreSQL wait for a core, as in production under load). Spawned with every signal
/// unblocked and SIGTERM at its default: the test runner's threads block signals, and a child
/// inherits that mask, so `Process` would start busy loops that ignore `stop()`.
public final class BusyProcesses: @unchecked Sendable {
    private let lock = NSLock()
    private var running: [pid_t] = []

    /// Starts `count` busy processes (default: one per core), each ending after `bound` at the latest.
    public init(count: Int = ProcessInfo.processInfo.activeProcessorCount, bound: Duration = .seconds(120)) throws {
        let seconds = String(max(1, bound.components.seconds))
        for _ in 0..<max(1, count) {
            do {
                // KILL after the bound; the TERM of `stop()` is passed on to `yes` by timeout.
                running.append(try Self.spawn("/usr/bin/timeout", ["-s", "KILL", seconds, "/usr/bin/yes"]))
            } catch {
                stop()
                throw error
            }
        }
    }

    /// The pids of the processes started (the `timeout` wrappers).
    public var pids: [pid_t] { lock.withLock { running } }

    /// Stops every process this object started, by pid, and waits for each to exit.
    public func stop() {
        let started = lock.withLock {
            defer { running = [] }
            return running
        }
        for pid in started { kill(pid, SIGTERM) }
        for pid in started {
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
        }
    }

    deinit {
        stop()
    }

    public struct SpawnError: Error, CustomStringConvertible {
        public let description: String
    }

    /// `posix_spawn` with no signal blocked, SIGTERM and SIGINT at their defaults and the
    /// standard streams on /dev/null.
    private static func spawn(_ path: String, _ arguments: [String]) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGTERM)
        sigaddset(&defaults, SIGINT)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var files = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&files)
        defer { posix_spawn_file_actions_destroy(&files) }
        posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&files, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&files, 2, "/dev/null", O_WRONLY, 0)

        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &files, &attributes, argv, environ)
        guard result == 0 else {
            throw SpawnError(description: "could not start \(path): \(String(cString: strerror(result)))")
        }
        return pid
    }
}
