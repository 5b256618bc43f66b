// swift-tools-version:6.2
import PackageDescription

/// The hot-path modules (RESP codec, Redis client, gateway) skip Swift's run-time exclusivity
/// checks in release builds: profiles of the hit path showed them at about 7% of the gateway's
/// CPU (every access to a handler's stored state). Debug builds, and so the test suite, keep them.
let hotPathSettings: [SwiftSetting] = [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

/// Products used by several targets.
let nioCore: Target.Dependency = .product(name: "NIOCore", package: "swift-nio")
let nioPosix: Target.Dependency = .product(name: "NIOPosix", package: "swift-nio")
let nioEmbedded: Target.Dependency = .product(name: "NIOEmbedded", package: "swift-nio")
let nioHTTP1: Target.Dependency = .product(name: "NIOHTTP1", package: "swift-nio")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let coreMetrics: Target.Dependency = .product(name: "CoreMetrics", package: "swift-metrics")
let serviceLifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")

/// Read-through and invalidation are the two halves of the cache's core: both work on the
/// model, against Redis and PostgreSQL, and report through swift-metrics and swift-log.
let cacheCoreDependencies: [Target.Dependency] = [
    "CacheModel", "RESP", "RedisBackend", "Postgres", coreMetrics, nioCore, logging,
]

let package = Package(
    name: "quicksell-gateway",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "quicksell-gateway", targets: ["quicksell-gateway"]),
        .executable(name: "quicksell-cache", targets: ["quicksell-cache"]),
        .executable(name: "quicksell-loadtest", targets: ["quicksell-loadtest"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0", traits: ["YAML"]),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        // TLS on the client port (the Gateway target only): BoringSSL inside, so that the
        // server's TLS does not depend on the system OpenSSL's version.
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        // Already swift-configuration's YAML parser; the gateway walks the file's keys with it to
        // name a misspelt one.
        .package(url: "https://github.com/jpsim/Yams.git", "5.4.0"..<"7.0.0"),
    ],
    targets: [
        // C libraries from Debian's packages (libpq-dev, libhiredis-dev).
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // OpenSSL's libcrypto (libssl-dev; libpq already links it): SHA-256 of configured
        // passwords, without compiling a second copy of BoringSSL for one hash.
        .systemLibrary(
            name: "CLibCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        .systemLibrary(
            name: "CHiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        // zlib (zlib1g-dev; libpq-dev already depends on it): the analytics exports' CSV.gz files.
        .systemLibrary(
            name: "CZlib",
            providers: [.apt(["zlib1g-dev"])]
        ),

        // The blocking hiredis client of the operator CLI, the load tool and the tests.
        .target(
            name: "HiredisClient",
            dependencies: ["CHiredis"]
        ),

        // The RESP codec, shared by the server side and the Redis client side.
        .target(
            name: "RESP",
            dependencies: [nioCore],
            swiftSettings: hotPathSettings
        ),
        // libpq connections, pool, listener and schema migrations.
        .target(
            name: "Postgres",
            dependencies: [
                "CLibPQ",
                logging,
                nioCore,
                nioPosix,
            ]
        ),
        // Pipelined SwiftNIO client for the gateway's own connection to Redis.
        .target(
            name: "RedisBackend",
            dependencies: [
                "RESP",
                nioCore,
                nioPosix,
                // rediss://: TLS to Redis and to every cluster node.
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                logging,
            ],
            swiftSettings: hotPathSettings
        ),
        // What every part agrees on: key families and their keys, TTLs and SQL, the Redis-side
        // layout (values, writers' transaction ids, the scripts), the QUICKSELL STATS document.
        // Shared by the gateway, the operator CLI and the load tool.
        .target(
            name: "CacheModel",
            dependencies: [
                "RedisBackend",
                nioCore,
            ]
        ),
        // Read-through: lookups in Redis, fills from PostgreSQL (single flight, batching), stores.
        .target(
            name: "ReadThrough",
            dependencies: cacheCoreDependencies,
            swiftSettings: hotPathSettings
        ),
        // Invalidation: the replication stream of PostgreSQL's writes, applied to Redis and to
        // whatever else holds cached values (`InvalidationTarget`).
        .target(
            name: "Invalidation",
            dependencies: cacheCoreDependencies
        ),
        // The server: client connections, commands, operator commands, configuration, health and
        // metrics endpoints, and the composition of everything (`Gateway`).
        .target(
            name: "Gateway",
            dependencies: [
                "CacheModel",
                "ReadThrough",
                "Invalidation",
                "RESP",
                "RedisBackend",
                "Postgres",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                "CLibCrypto",
                .product(name: "Yams", package: "Yams"),
                serviceLifecycle,
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                nioCore,
                nioHTTP1,
                nioPosix,
                logging,
            ],
            swiftSettings: hotPathSettings
        ),
        .executableTarget(
            name: "quicksell-gateway",
            dependencies: [
                "Gateway",
                argumentParser,
                logging,
            ]
        ),
        // The data lifecycle's retention jobs: the SQL functions of migration 010 run batch by
        // batch, analytics exported to CSV.gz, removed photos' URLs written out.
        .target(
            name: "Retention",
            dependencies: ["Postgres", "CZlib"]
        ),
        .executableTarget(
            name: "quicksell-cache",
            dependencies: [
                "CacheModel",
                "Postgres",
                "Retention",
                "HiredisClient",
                argumentParser,
            ]
        ),

        // Load generator and data seeder.
        .target(
            name: "LoadTest",
            dependencies: [
                "CacheModel",
                "Postgres",
                "HiredisClient",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "loadtest/LoadTest"
        ),
        .executableTarget(
            name: "quicksell-loadtest",
            dependencies: [
                "LoadTest",
                "Postgres",
                argumentParser,
            ],
            path: "loadtest/quicksell-loadtest"
        ),

        // Shared helpers of the integration tests: real servers, throwaway databases.
        .target(
            name: "TestSupport",
            dependencies: ["Postgres", "HiredisClient"],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "RESPTests",
            dependencies: [
                "RESP",
                "TestSupport",
                "CHiredis",
                nioCore,
            ]
        ),
        .testTarget(
            name: "PostgresTests",
            dependencies: ["Postgres", "TestSupport"]
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "Gateway",
                "CacheModel",
                "ReadThrough",
                "Invalidation",
                "Postgres",
                "RedisBackend",
                "LoadTest",
                "Retention",
                "RESP",
                "HiredisClient",
                "TestSupport",
                nioCore,
                nioEmbedded,
                nioPosix,
                serviceLifecycle,
            ]
        ),
        .testTarget(
            name: "RedisBackendTests",
            dependencies: [
                "RedisBackend",
                "RESP",
                "TestSupport",
                nioCore,
                nioPosix,
            ]
        ),
        .testTarget(
            name: "LoadTestTests",
            dependencies: ["LoadTest", "Postgres", "TestSupport"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
