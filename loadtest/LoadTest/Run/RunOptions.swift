import CacheModel

/// Everything one `quicksell-loadtest run` does, validated before anything connects.
public struct RunOptions: Sendable {
    /// `mixed` reads and writes through the read-through path; `hitOnly` pre-warms every
    /// key and then only reads, so the same run can be aimed at Redis or twemproxy;
    /// `missOnly` requests every key of the chosen families exactly once (no Zipf), so
    /// against a cold cache every GET is a distinct miss (the fill path's rate).
    public enum Mode: String, Sendable, Codable {
        case mixed
        case hitOnly = "hit-only"
        case missOnly = "miss-only"
    }

    public var host: String
    public var port: Int
    /// Further endpoints (`--target A,B,…`), e.g. several gateways on one Redis Cluster: the
    /// reader threads are shared out among `host:port` and these, round robin.
    public var extraTargets: [Endpoint] = []
    public var postgresURL: String
    /// Measured seconds (after the warm-up); ignored when `requests` is set.
    public var durationSeconds: Double
    /// Stop after this many measured requests instead of after `durationSeconds`.
    public var requests: Int?
    /// Seconds of traffic before measuring starts (excluded from every figure).
    public var warmupSeconds: Double
    public var connections: Int
    public var threads: Int
    public var pipelineDepth: Int
    public var zipfSkew: Double
    /// Relative weights of the families; zero leaves a family out.
    public var mix: [KeyFamily: Int]
    /// PostgreSQL writes per second (0 = none).
    public var writeRate: Double
    public var seed: UInt64
    public var mode: Mode
    /// Before a hit-only run, SET every key to a ~400-byte blob (targets without read-through).
    public var preload: Bool
    /// Share of row-family reads checked against PostgreSQL (0 = verifier off).
    public var verifyFraction: Double
    /// Seconds a suspect read may keep differing from PostgreSQL before it counts as stale.
    public var verifyPatienceSeconds: Double = 3
    /// Print one progress line a second (to stderr).
    public var progress: Bool
    /// Cap on the ids per id set (users, listings) drawn from PostgreSQL; nil = all.
    public var maxKeysPerSet: Int?

    public static let defaultMix: [KeyFamily: Int] = [
        .user: 25, .listing: 30, .marketplaceListings: 15, .userStats: 12, .userBadges: 10,
        .leaderboardWeekly: 4, .leaderboardMonthly: 4,
    ]

    public init(host: String = "127.0.0.1", port: Int = 6380, postgresURL: String,
                durationSeconds: Double = 10, requests: Int? = nil, warmupSeconds: Double = 2,
                connections: Int = 8, threads: Int = 2, pipelineDepth: Int = 4, zipfSkew: Double = 0.99,
                mix: [KeyFamily: Int] = RunOptions.defaultMix, writeRate: Double = 0, seed: UInt64 = 1,
                mode: Mode = .mixed, preload: Bool = false, verifyFraction: Double = 0,
                progress: Bool = true, maxKeysPerSet: Int? = nil) {
        self.host = host
        self.port = port
        self.postgresURL = postgresURL
        self.durationSeconds = durationSeconds
        self.requests = requests
        self.warmupSeconds = warmupSeconds
        self.connections = connections
        self.threads = threads
        self.pipelineDepth = pipelineDepth
        self.zipfSkew = zipfSkew
        self.mix = mix
        self.writeRate = writeRate
        self.seed = seed
        self.mode = mode
        self.preload = preload
        self.verifyFraction = verifyFraction
        self.progress = progress
        self.maxKeysPerSet = maxKeysPerSet
    }

    /// One Redis-protocol endpoint.
    public struct Endpoint: Sendable, Codable, Equatable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        public var description: String { "\(host):\(port)" }
    }

    /// Every target, the first being `host:port`.
    public var targets: [Endpoint] { [Endpoint(host: host, port: port)] + extraTargets }

    /// The same options aimed at one target only (what a reader thread of that target uses).
    func aimed(at target: Endpoint) -> RunOptions {
        var options = self
        options.host = target.host
        options.port = target.port
        options.extraTargets = []
        return options
    }

    /// Checks every knob; the error names the option and the value.
    public func validate() throws(RunError) {
        func bad(_ text: String) -> RunError { .invalidOption(text) }
        for target in targets where !(1...65_535).contains(target.port) {
            throw bad("--target port must be in 1...65535, got \(target.port)")
        }
        guard threads >= targets.count else {
            throw bad("--threads (\(threads)) must be at least the number of targets (\(targets.count)): each reader thread drives one target")
        }
        guard durationSeconds > 0, durationSeconds.isFinite else { throw bad("--duration must be positive, got \(durationSeconds)") }
        if let requests, requests < 1 { throw bad("--requests must be at least 1, got \(requests)") }
        guard warmupSeconds >= 0, warmupSeconds.isFinite else { throw bad("--warmup must not be negative, got \(warmupSeconds)") }
        guard (1...1024).contains(connections) else { throw bad("--connections must be in 1...1024, got \(connections)") }
        guard (1...256).contains(threads) else { throw bad("--threads must be in 1...256, got \(threads)") }
        guard threads <= connections else { throw bad("--threads (\(threads)) must not exceed --connections (\(connections))") }
        guard (1...1024).contains(pipelineDepth) else { throw bad("--pipeline must be in 1...1024, got \(pipelineDepth)") }
        guard zipfSkew >= 0, zipfSkew <= 5 else { throw bad("--zipf must be in 0...5, got \(zipfSkew)") }
        guard writeRate >= 0, writeRate <= 100_000, writeRate.isFinite else {
            throw bad("--write-rate must be in 0...100000 writes/s, got \(writeRate)")
        }
        guard verifyFraction >= 0, verifyFraction <= 1 else { throw bad("--verify must be in 0...1, got \(verifyFraction)") }
        guard verifyPatienceSeconds >= 1, verifyPatienceSeconds <= 600 else {
            throw bad("--verify-patience must be in 1...600 seconds, got \(verifyPatienceSeconds)")
        }
        if let maxKeysPerSet, maxKeysPerSet < 1 { throw bad("--max-keys must be at least 1, got \(maxKeysPerSet)") }
        guard mix.values.allSatisfy({ $0 >= 0 }) else { throw bad("--mix weights must not be negative") }
        guard mix.values.reduce(0, +) > 0 else { throw bad("--mix must give at least one family a positive weight") }
        if mode == .hitOnly, writeRate > 0 { throw bad("--mode hit-only reads only: drop --write-rate") }
        if mode == .missOnly, writeRate > 0 { throw bad("--mode miss-only reads only: drop --write-rate") }
        if mode == .missOnly, preload { throw bad("--preload SETs keys, which would make --mode miss-only hits: drop --preload") }
    }

    /// Parses `user=40,listing=30,leaderboard:weekly=5`; families not named get weight 0.
    public static func parseMix(_ text: String) throws(RunError) -> [KeyFamily: Int] {
        var mix: [KeyFamily: Int] = [:]
        for part in text.split(separator: ",") {
            let pieces = part.split(separator: "=", maxSplits: 1)
            guard pieces.count == 2 else {
                throw .invalidOption("--mix entry '\(part)' is not FAMILY=WEIGHT")
            }
            let name = pieces[0].trimmingCharacters(in: .whitespaces)
            guard let family = KeyFamily(loadName: name) else {
                throw .invalidOption("--mix: unknown family '\(name)' (families: \(KeyFamily.nameList))")
            }
            guard let weight = Int(pieces[1].trimmingCharacters(in: .whitespaces)), weight >= 0 else {
                throw .invalidOption("--mix weight of \(family.rawValue) must be a non-negative integer, got '\(pieces[1])'")
            }
            mix[family] = weight
        }
        guard !mix.isEmpty else { throw .invalidOption("--mix is empty") }
        return mix
    }

    /// Parses `HOST:PORT[,HOST:PORT…]`.
    public static func parseTargets(_ text: String) throws(RunError) -> [Endpoint] {
        var targets: [Endpoint] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let (host, port) = try parseTarget(String(part).trimmingCharacters(in: .whitespaces))
            targets.append(Endpoint(host: host, port: port))
        }
        return targets
    }

    /// Parses `HOST:PORT`.
    public static func parseTarget(_ text: String) throws(RunError) -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (1...65_535).contains(port), colon != text.startIndex else {
            throw .invalidOption("--target '\(text)' is not HOST:PORT")
        }
        return (String(text[..<colon]), port)
    }
}

import Foundation
