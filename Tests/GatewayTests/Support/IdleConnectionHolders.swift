import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// python3 children (`Tests/hostile/hold_connections.py`) that open idle connections to a
/// port as fast as they can and hold them. Children, because one process cannot hold 20,000
/// client sockets beside everything else under a 20,000-descriptor hard limit (this machine's
/// and CI's); each child raises its own soft limit. Child `n` connects from 127.0.0.(n + 2), so
/// the connections use none of 127.0.0.1's ephemeral ports.
final class IdleConnectionHolders {
    /// What a child printed once all its connects had finished.
    struct Opened: Decodable {
        var opened: Int
        var failed: Int
        var seconds: Double
        var errors: [String: Int]
    }

    private struct PeerClosed: Decodable {
        var peer_closed: Int
    }

    /// One python3 child: its stdin (closed to let it go) and what it printed.
    private struct Child {
        let process = Process()
        let input = Pipe(), output = Pipe(), errors = Pipe()
        let collected = OutputCollector()
    }

    private let children: [Child]

    /// Starts `children` children holding `total / children` connections each, each with at
    /// most `window` connecting or not yet accepted at once (so that every connection reaches
    /// the server: past its listen queue the kernel's SYN cookies would complete handshakes the
    /// server never sees); a child gives up by itself after `maxSeconds` should this process
    /// die without stopping it.
    init(port: Int, total: Int, children count: Int, window: Int, maxSeconds: Int) throws {
        let script = RepoPaths.root.appendingPathComponent("Tests/hostile/hold_connections.py").path
        var started: [Child] = []
        for index in 0..<count {
            let child = Child()
            child.process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            child.process.arguments = [
                "python3", script, String(port), String(total / count), String(window), "127.0.0.\(index + 2)",
                String(maxSeconds),
            ]
            child.process.standardInput = child.input
            child.process.standardOutput = child.output
            child.process.standardError = child.errors
            let collected = child.collected
            child.output.fileHandleForReading.readabilityHandler = { collected.append($0.availableData, error: false) }
            child.errors.fileHandleForReading.readabilityHandler = { collected.append($0.availableData, error: true) }
            do { try child.process.run() } catch {
                Self.stop(started)
                throw error
            }
            started.append(child)
        }
        children = started
    }

    deinit { Self.stop(children) }

    /// Every child's report once all have finished connecting; nil before. Throws when a child
    /// exited without one (its stderr says why).
    func opened() throws -> [Opened]? {
        var reports: [Opened] = []
        for child in children {
            let (out, err) = child.collected.snapshot
            if let line = out.split(separator: "\n").first(where: { $0.contains("\"opened\"") }) {
                reports.append(try JSONDecoder().decode(Opened.self, from: Data(line.utf8)))
            } else if !child.process.isRunning {
                throw TestFailure("hold_connections.py exited without a report: \(err.suffix(500))")
            } else {
                return nil
            }
        }
        return reports
    }

    /// Lets every child go (its stdin closes: it closes its connections and exits) and
    /// returns how many of the held connections the server had closed; SIGKILLs, by pid, a
    /// child still running after 2 s.
    func stop() -> Int {
        Self.stop(children)
        return children.reduce(0) { total, child in
            let line = child.collected.snapshot.0.split(separator: "\n").first { $0.contains("peer_closed") }
            let report = line.flatMap { try? JSONDecoder().decode(PeerClosed.self, from: Data($0.utf8)) }
            return total + (report?.peer_closed ?? 0)
        }
    }

    private static func stop(_ children: [Child]) {
        for child in children { try? child.input.fileHandleForWriting.close() }
        let deadline = ContinuousClock.now + .seconds(2)
        while children.contains(where: { $0.process.isRunning }) && ContinuousClock.now < deadline {
            usleep(10_000)
        }
        for child in children where child.process.isRunning { kill(child.process.processIdentifier, SIGKILL) }
        for child in children {
            child.process.waitUntilExit()
            // The last line may still be in the pipe after the handler's final read.
            for (pipe, isError) in [(child.output, false), (child.errors, true)] {
                pipe.fileHandleForReading.readabilityHandler = nil
                child.collected.append(pipe.fileHandleForReading.readDataToEndOfFile(), error: isError)
            }
        }
    }
}
