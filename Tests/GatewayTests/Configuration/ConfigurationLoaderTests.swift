import CacheModel
import Foundation
import Gateway
import Testing

/// The YAML file, `QUICKSELL_*` variables and flags merge in that order of precedence,
/// and a bad value names its key and the expected form.
@Suite struct ConfigurationLoaderTests {
    private func writeFile(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "qs-config-\(UUID().uuidString).yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private var repositoryFile: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("config/gateway.yaml").path
    }

    @Test func theShippedFileLoadsWithTheSeedDefaults() async throws {
        let configuration = try await ConfigurationLoader.load(file: repositoryFile, environment: [:])
        #expect(configuration.server.port == 6380)
        #expect(configuration.cache.ttl(.user) == 3_600)
        #expect(configuration.cache.ttl(.listing) == 1_800)
        #expect(configuration.cache.ttl(.marketplaceListings) == 900)
        #expect(configuration.cache.ttl(.userStats) == 3_600)
        #expect(configuration.cache.ttl(.userBadges) == 3_600)
        #expect(configuration.cache.ttl(.leaderboardWeekly) == 21_600)
        #expect(configuration.cache.ttl(.leaderboardMonthly) == 21_600)
        #expect(configuration.cache.negativeTTLSeconds == 60)
        #expect(configuration.redisURL == "redis://127.0.0.1:6390")
    }

    /// `server.threads: 0`: one loop per core, but one loop on machines of one or two cores
    /// (they share the cores with Redis and the clients; see `defaultEventLoopThreads`).
    @Test func zeroThreadsMeansOneLoopPerCoreExceptOnSmallMachines() async throws {
        #expect(ServerConfiguration.defaultEventLoopThreads(cores: 1) == 1)
        #expect(ServerConfiguration.defaultEventLoopThreads(cores: 2) == 1)
        #expect(ServerConfiguration.defaultEventLoopThreads(cores: 3) == 3)
        #expect(ServerConfiguration.defaultEventLoopThreads(cores: 8) == 8)
        let configuration = try await ConfigurationLoader.load(file: repositoryFile, environment: [:])
        #expect(configuration.server.eventLoopThreads == ServerConfiguration.defaultEventLoopThreads())
        let explicit = try await ConfigurationLoader.load(file: repositoryFile, environment: ["QUICKSELL_SERVER_THREADS": "2"])
        #expect(explicit.server.eventLoopThreads == 2)
    }

    @Test func environmentOverridesTheFileAndFlagsOverrideBoth() async throws {
        let file = try writeFile("""
            server:
              port: 7000
              max_clients: 50
            cache:
              ttl_seconds:
                listing: 100
            """)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let configuration = try await ConfigurationLoader.load(
            file: file,
            overrides: ["server.port": "7002"],
            environment: ["QUICKSELL_SERVER_PORT": "7001", "QUICKSELL_SERVER_MAX_CLIENTS": "60",
                          "QUICKSELL_CACHE_TTL_SECONDS_LISTING": "200"])
        #expect(configuration.server.port == 7002)
        #expect(configuration.server.maxClients == 60)
        #expect(configuration.cache.ttl(.listing) == 200)
    }

    @Test func aBadValueNamesTheKeyAndTheExpectedForm() async throws {
        let file = try writeFile("server:\n  port: not-a-port\n")
        defer { try? FileManager.default.removeItem(atPath: file) }
        await #expect {
            _ = try await ConfigurationLoader.load(file: file, environment: [:])
        } throws: { error in
            let text = "\(error)"
            return text.contains("'server.port'") && text.contains("an integer in 0...65535") && text.contains("not-a-port")
        }
        await #expect {
            _ = try await ConfigurationLoader.load(file: nil, environment: ["QUICKSELL_REDIS_URL": "localhost:6379"])
        } throws: { error in
            "\(error)".contains("'redis.url'") && "\(error)".contains("redis[s]://")
        }
        await #expect {
            _ = try await ConfigurationLoader.load(file: nil, overrides: ["cache.ttl_seconds.user": "-5"], environment: [:])
        } throws: { error in
            "\(error)".contains("'cache.ttl_seconds.user'") && "\(error)".contains("QUICKSELL_CACHE_TTL_SECONDS_USER")
        }
        await #expect {
            _ = try await ConfigurationLoader.load(file: nil, overrides: ["log.level": "loud"], environment: [:])
        } throws: { error in
            "\(error)".contains("'log.level'") && "\(error)".contains("warning")
        }
    }

    @Test func theSlotWarningThresholdDefaultsToOneGiBAndABadValueIsNamed() async throws {
        let shipped = try await ConfigurationLoader.load(file: repositoryFile, environment: [:])
        #expect(shipped.invalidation.slotRetainedWarningBytes == 1 << 30)
        #expect(shipped.maskedDescription.contains("invalidation.slot_retained_warning_bytes: 1073741824"))
        let set = try await ConfigurationLoader.load(
            file: nil, environment: ["QUICKSELL_INVALIDATION_SLOT_RETAINED_WARNING_BYTES": "5000000000"])
        #expect(set.invalidation.slotRetainedWarningBytes == 5_000_000_000)
        for bad in ["1GiB", "-1"] {
            await #expect {
                _ = try await ConfigurationLoader.load(
                    file: nil, overrides: ["invalidation.slot_retained_warning_bytes": bad], environment: [:])
            } throws: { error in
                let text = "\(error)"
                return text.contains("'invalidation.slot_retained_warning_bytes'") && text.contains("an integer in 0...")
                    && text.contains(bad)
            }
        }
    }

    @Test func theFamilyFlushThresholdDefaultsTo50000KeysAndABadValueIsNamed() async throws {
        let shipped = try await ConfigurationLoader.load(file: repositoryFile, environment: [:])
        #expect(shipped.invalidation.flushFamiliesAboveKeys == 50_000)
        #expect(shipped.maskedDescription.contains("invalidation.flush_families_above_keys: 50000"))
        let set = try await ConfigurationLoader.load(
            file: nil, environment: ["QUICKSELL_INVALIDATION_FLUSH_FAMILIES_ABOVE_KEYS": "200000"])
        #expect(set.invalidation.flushFamiliesAboveKeys == 200_000)
        await #expect {
            _ = try await ConfigurationLoader.load(
                file: nil, overrides: ["invalidation.flush_families_above_keys": "10"], environment: [:])
        } throws: { error in
            "\(error)".contains("'invalidation.flush_families_above_keys'") && "\(error)".contains("1000...")
        }
    }

    @Test func clusterSeedNodesComeFromTheEnvironmentOrAFlagAndAreValidated() async throws {
        let shipped = try await ConfigurationLoader.load(file: repositoryFile, environment: [:])
        #expect(shipped.redisClusterNodes.isEmpty, "a single Redis is the default")
        let fromEnvironment = try await ConfigurationLoader.load(
            file: repositoryFile,
            environment: ["QUICKSELL_REDIS_CLUSTER_NODES": "redis://127.0.0.1:7100, redis://:pw@127.0.0.1:7101"])
        #expect(fromEnvironment.redisClusterNodes == ["redis://127.0.0.1:7100", "redis://:pw@127.0.0.1:7101"])
        #expect(fromEnvironment.maskedDescription.contains("redis.cluster_nodes: redis://127.0.0.1:7100,redis://:***@127.0.0.1:7101"))
        #expect(!fromEnvironment.maskedDescription.contains("pw@"))
        let fromFlag = try await ConfigurationLoader.load(
            file: nil, overrides: ["redis.cluster_nodes": "redis://127.0.0.1:7102"], environment: [:])
        #expect(fromFlag.redisClusterNodes == ["redis://127.0.0.1:7102"])
        await #expect {
            _ = try await ConfigurationLoader.load(
                file: nil, environment: ["QUICKSELL_REDIS_CLUSTER_NODES": "redis://127.0.0.1:7100/2"])
        } throws: { error in
            let text = "\(error)"
            return text.contains("'redis.cluster_nodes'") && text.contains("QUICKSELL_REDIS_CLUSTER_NODES")
                && text.contains("only database 0")
        }
        await #expect {
            _ = try await ConfigurationLoader.load(file: nil, environment: ["QUICKSELL_REDIS_CLUSTER_NODES": "127.0.0.1:7100"])
        } throws: { error in
            "\(error)".contains("'redis.cluster_nodes'") && "\(error)".contains("redis://")
        }
    }

    @Test func aMissingFileIsNamed() async throws {
        await #expect {
            _ = try await ConfigurationLoader.load(file: "/nonexistent/gateway.yaml", environment: [:])
        } throws: { error in
            "\(error)".contains("/nonexistent/gateway.yaml")
        }
    }

    @Test func passwordsAreMaskedInTheEffectiveConfiguration() async throws {
        let configuration = try await ConfigurationLoader.load(
            file: nil,
            overrides: ["server.requirepass": "hunter2", "postgres.url": "postgresql://app:pgsecret@db:5432/quicksell",
                        "redis.url": "redis://:redissecret@cache:6379"],
            environment: [:])
        let text = configuration.maskedDescription
        #expect(!text.contains("hunter2") && !text.contains("pgsecret") && !text.contains("redissecret"))
        #expect(text.contains("server.requirepass: ********"))
        #expect(configuration.server.users.requiresAuthentication)
    }
}
