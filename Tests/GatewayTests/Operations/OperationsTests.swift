import Foundation
import Gateway
import Postgres
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Metrics, health, graceful shutdown and configuration checks, as an operator sees them.
@Suite(.timeLimit(.minutes(2))) struct OperationsTests {
    @Test func metricsCountAKnownSequenceOfRequestsExactly() async throws {
        let harness = try await GatewayHarness(label: "ops_metrics", metricsPort: 0, setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        let port = try #require(harness.gateway.endpoints?.port)
        let client = try harness.client()
        _ = try client.command("GET", "user:1")      // miss + fill
        _ = try client.command("GET", "user:1")      // hit
        _ = try client.command("GET", "user:999")    // miss, absent
        _ = try client.command("GET", "user:999")    // negative hit
        _ = try client.command("MGET", "listing:10", "listing:12")  // two misses, one query
        for _ in 0..<3 { _ = try client.command("PING") }
        _ = try client.command("NOSUCHCOMMAND")

        let (status, body) = try httpGet(port: port, path: "/metrics")
        #expect(status == 200)
        #expect(sample(body, #"quicksell_requests_total{command="get"}"#) == 4)
        #expect(sample(body, #"quicksell_requests_total{command="mget"}"#) == 1)
        #expect(sample(body, #"quicksell_requests_total{command="ping"}"#) == 3)
        #expect(sample(body, #"quicksell_requests_total{command="unknown"}"#) == 1)
        #expect(sample(body, #"quicksell_request_duration_seconds_count{command="get"}"#) == 4)
        #expect(sample(body, #"quicksell_cache_hits_total{family="user"}"#) == 1)
        #expect(sample(body, #"quicksell_cache_misses_total{family="user"}"#) == 2)
        #expect(sample(body, #"quicksell_cache_negative_hits_total{family="user"}"#) == 1)
        #expect(sample(body, #"quicksell_cache_fills_total{family="user"}"#) == 2)
        #expect(sample(body, #"quicksell_cache_misses_total{family="listing"}"#) == 2)
        #expect(sample(body, #"quicksell_postgres_queries_total{family="listing"}"#) == 1)
        #expect(sample(body, #"quicksell_fill_duration_seconds_count{family="user"}"#) == 2)
        #expect(sample(body, "quicksell_connected_clients") == 1)
        #expect(sample(body, #"quicksell_backend_up{backend="redis"}"#) == 1)
        #expect((sample(body, "quicksell_redis_round_trips_total") ?? 0) >= 4)

        // A write's invalidation shows up too.
        try harness.database.connect().execute("UPDATE users SET bio = 'metrics' WHERE id = 1")
        #expect(try await eventually(seconds: TimeBounds.invalidation) {
            sample(try httpGet(port: port, path: "/metrics").body, #"quicksell_invalidations_applied_total{family="user"}"#) == 1
        })
        let after = try httpGet(port: port, path: "/metrics").body
        #expect(sample(after, "quicksell_invalidation_lag_seconds_count") == 1)
        // Scraping twice does not count twice.
        #expect(sample(after, #"quicksell_cache_hits_total{family="user"}"#) == 1)
    }

    @Test func readinessFollowsRedisGoingAwayAndComingBack() async throws {
        let redis = try PrivateRedis()
        defer { redis.stop() }
        let harness = try await GatewayHarness(label: "ops_ready", metricsPort: 0, redisURL: redis.url, setUp: Fixtures.load)
        defer { Task { await harness.stop() } }
        let port = try #require(harness.gateway.endpoints?.port)
        #expect(try await eventually(seconds: TimeBounds.recovery) { try httpGet(port: port, path: "/readyz").status == 200 })
        #expect(try httpGet(port: port, path: "/healthz") == (200, #"{"status":"ok"}"#))

        redis.stop()
        let stoppedAt = Date()
        let unready = try await eventually(seconds: TimeBounds.recovery) { try httpGet(port: port, path: "/readyz").status == 503 }
        #expect(unready, "/readyz still healthy \(TimeBounds.recovery) s after Redis stopped")
        let elapsed = Date().timeIntervalSince(stoppedAt)
        let (_, body) = try httpGet(port: port, path: "/readyz")
        #expect(body.contains(#""redis":"down""#) && body.contains(#""status":"unready""#), "\(body)")
        #expect(try httpGet(port: port, path: "/healthz").status == 200, "liveness must not depend on Redis")
        print("readyz turned unhealthy \(Int(elapsed * 1000)) ms after Redis stopped")

        try redis.start()
        #expect(try await eventually(seconds: 5) { try httpGet(port: port, path: "/readyz").status == 200 },
                "/readyz did not recover after Redis came back")
        #expect(try harness.client().command("GET", "user:1").string != nil)
    }

    /// Idle connections to the metrics port cannot pile up: beyond the cap they are closed on
    /// accept, and the rest unless they send a request in time; the Redis port keeps answering.
    @Test func idleConnectionsToTheMetricsPortAreCappedAndTimedOut() async throws {
        let harness = try await GatewayHarness(label: "ops_metrics_idle", metricsPort: 0, setUp: Fixtures.load) {
            $0.metricsMaxConnections = 20
            $0.metricsRequestTimeoutSeconds = 3
        }
        defer { Task { await harness.stop() } }
        let endpoints = try #require(harness.gateway.endpoints)
        let idle = try (0..<500).map { _ in try RawClient(port: endpoints.port) }
        let client = try harness.client()
        #expect(try client.command("GET", "user:1").string?.contains("alice") == true)
        var mostOpen = 0
        for _ in 0..<20 {
            mostOpen = max(mostOpen, endpoints.openCount)
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(mostOpen <= 20 && mostOpen > 0, "\(mostOpen) connections open at once, cap 20")
        #expect(try await eventually(seconds: 10) { idle.allSatisfy { $0.peerClosed } }, "idle connections were not timed out")
        // Most were refused on accept; a few accepted late may have found a timed-out one's place.
        #expect(endpoints.refused >= 300, "refused \(endpoints.refused)")
        let port = endpoints.port
        #expect(try httpGet(port: port, path: "/readyz").status == 200)
        #expect(try client.command("GET", "user:2").string != nil)
    }

    @Test func aPasswordOnTheCommandLineIsWarnedAboutWithoutBeingLogged() async throws {
        let database = try TestDatabase(label: "ops_argv")
        defer { database.drop() }
        let redisDatabase = RedisDatabases.next()
        let gateway = try await GatewayProcess(arguments: [
            "--redis-url", try TestEnvironment.redisURL() + "/\(redisDatabase)", "--postgres-url", database.url,
            "--requirepass", "argv-secret-42",
        ])
        let result = await gateway.stop()
        #expect(result.stderr.contains("a password was given on the command line (--requirepass)"), "\(result.stderr)")
        #expect(!result.stderr.contains("argv-secret-42") && !result.stdout.contains("argv-secret-42"))
    }

    @Test func sigtermDuringAPipelinedBurstAnswersEveryRequestReadAndExitsZero() async throws {
        let database = try TestDatabase(label: "ops_sigterm")
        defer { database.drop() }
        try Fixtures.load(try database.connect())
        let redisDatabase = RedisDatabases.next()
        let gateway = try await GatewayProcess(arguments: [
            "--redis-url", try TestEnvironment.redisURL() + "/\(redisDatabase)", "--postgres-url", database.url,
            "--metrics-port", "0",
        ])
        let client = try RawClient(port: gateway.port, receiveTimeout: .seconds(10))
        var burst: [UInt8] = []
        for index in 0..<10_000 {
            let command = index % 2 == 0 ? "*1\r\n$4\r\nPING\r\n" : "*2\r\n$3\r\nGET\r\n$6\r\nuser:1\r\n"
            burst.append(contentsOf: command.utf8)
        }
        // Send the burst from a thread of its own; stop the gateway part-way through.
        nonisolated(unsafe) let sendingClient = client
        let payload = burst
        let sender = BackgroundWorkers(count: 1) { _ in
            try? sendingClient.send(payload)
        }
        try await Task.sleep(for: .milliseconds(30))
        kill(gateway.process.processIdentifier, SIGTERM)
        let (bytes, closed) = client.readUntilClosed()
        try sender.join()
        let result = await gateway.stop()

        #expect(closed, "the gateway did not close the connection")
        #expect(result.graceful, "the gateway did not exit by itself")
        #expect(gateway.process.terminationStatus == 0, "exit status \(gateway.process.terminationStatus)")
        // Replies are whole and in request order: PONG, the user, PONG, …
        let (replies, leftover) = splitReplies(bytes)
        #expect(leftover == 0, "a reply was cut off")
        for (index, reply) in replies.enumerated() {
            let expectedPing = index % 2 == 0
            #expect(expectedPing ? reply == "+PONG" : reply.hasPrefix("$"), "reply \(index) is \(reply.prefix(40))")
        }
        // Every request the gateway read got its reply.
        let processed = result.stderr.firstMatch(of: /commands_processed=([0-9]+)/).flatMap { Int($0.1) }
        #expect(processed == replies.count, "processed \(processed ?? -1) requests but sent \(replies.count) replies")
        #expect(replies.count > 0)
        print("SIGTERM mid-burst: \(replies.count) of 10000 requests read and answered")
    }

    @Test func checkConfigNamesAWrongKeyAndItsExpectedType() async throws {
        let file = NSTemporaryDirectory() + "qs-check-\(UUID().uuidString).yaml"
        try "server:\n  max_clients: lots\n".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let executable = try RepoPaths.gatewayExecutable()
        let bad = try await runProcess(executable, ["--config", file, "--check-config"], timeout: .seconds(20))
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("'server.max_clients'") && bad.stderr.contains("an integer in 1...1000000")
                    && bad.stderr.contains("lots"), "\(bad.stderr)")
        let good = try await runProcess(executable, ["--config", RepoPaths.root.appendingPathComponent("config/gateway.yaml").path, "--check-config",
                                                     "--requirepass", "hunter2"], timeout: .seconds(20))
        #expect(good.status == 0)
        #expect(good.stdout.contains("server.requirepass: ********") && !good.stdout.contains("hunter2"))
        #expect(good.stdout.contains("configuration OK"))
    }
}
