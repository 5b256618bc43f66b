import NIOCore
import Testing

@testable import RedisBackend

@Suite struct ConfigurationTests {
    @Test func defaults() {
        let c = RedisClientConfiguration()
        #expect(c.host == "127.0.0.1")
        #expect(c.port == 6379)
        #expect(c.username == nil && c.password == nil)
        #expect(c.connectTimeout == .seconds(2))
        #expect(c.commandTimeout == .seconds(2))
        #expect(c.reconnectBackoffMin == .milliseconds(50))
        #expect(c.reconnectBackoffMax == .seconds(2))
        #expect(c.maxPendingCommands == 100_000)
    }

    @Test func urlForms() throws {
        let plain = try RedisClientConfiguration(url: "redis://127.0.0.1:6390")
        #expect(plain.host == "127.0.0.1" && plain.port == 6390 && plain.password == nil)

        let noPort = try RedisClientConfiguration(url: "redis://cache.local/0")
        #expect(noPort.database == 0)
        #expect(try RedisClientConfiguration(url: "redis://127.0.0.1:6390/7").database == 7)
        #expect(noPort.host == "cache.local" && noPort.port == 6379)

        let passwordOnly = try RedisClientConfiguration(url: "redis://:s%40cret@127.0.0.1:7000/")
        #expect(passwordOnly.username == nil && passwordOnly.password == "s@cret" && passwordOnly.port == 7000)

        let both = try RedisClientConfiguration(url: "REDIS://gw:pw@[::1]:6380/0")
        #expect(both.username == "gw" && both.password == "pw" && both.host == "::1" && both.port == 6380)
        #expect(both.address == "[::1]:6380")
        #expect(plain.tls == nil && both.tls == nil)
    }

    @Test func redissTurnsTLSOnWithTheSettingsGiven() throws {
        let secure = try RedisClientConfiguration(url: "rediss://:pw@cache.local:6390/3",
                                                  tls: RedisTLSSettings(serverName: "redis.internal"))
        #expect(secure.host == "cache.local" && secure.port == 6390 && secure.database == 3 && secure.password == "pw")
        #expect(secure.tls?.settings.serverName == "redis.internal")
        #expect(secure.tls?.serverHostname(for: "cache.local") == "redis.internal")
        let byHost = try RedisClientConfiguration(url: "REDISS://cache.local")
        #expect(byHost.tls?.serverHostname(for: "cache.local") == "cache.local")
        #expect(byHost.tls?.serverHostname(for: "10.0.0.7") == nil, "an IP address is checked against the certificate's IP entries, not sent in SNI")
    }

    @Test func missingTLSFilesAreNamed() {
        #expect {
            _ = try RedisClientConfiguration(url: "rediss://127.0.0.1", tls: RedisTLSSettings(caCertificateFile: "/nonexistent/ca.pem"))
        } throws: { error in
            "\(error)".contains("Redis TLS CA certificate /nonexistent/ca.pem")
        }
        #expect {
            _ = try RedisClientConfiguration(url: "rediss://127.0.0.1", tls: RedisTLSSettings(certificateFile: "/tmp/c.pem"))
        } throws: { error in
            "\(error)".contains("given without its key file")
        }
    }

    @Test func clusterSeedsAreAllTLSOrNone() throws {
        let secure = try RedisClusterConfiguration(seedURLs: ["rediss://127.0.0.1:7000", "rediss://127.0.0.1:7001"])
        #expect(secure.node(at: ClusterNodeAddress(host: "127.0.0.1", port: 7005)).tls != nil, "a discovered node uses TLS too")
        #expect(try RedisClusterConfiguration(seedURLs: ["redis://127.0.0.1:7000"]).node.tls == nil)
        #expect {
            _ = try RedisClusterConfiguration(seedURLs: ["rediss://127.0.0.1:7000", "redis://127.0.0.1:7001"])
        } throws: { error in
            "\(error)".contains("all redis:// or all rediss://")
        }
    }

    @Test(arguments: [
        "http://127.0.0.1:6379",
        "rediss//127.0.0.1",
        "redis://",
        "redis://127.0.0.1:0",
        "redis://127.0.0.1:99999",
        "redis://127.0.0.1:port",
        "redis://127.0.0.1/x",
        "redis://127.0.0.1/-1",
        "redis://justuser@127.0.0.1",
        "redis://:bad%zz@127.0.0.1",
    ])
    func badURLsAreRejectedWithTheExpectedForm(url: String) {
        do {
            _ = try RedisClientConfiguration(url: url)
            Issue.record("accepted \(url)")
        } catch {
            let text = "\(error)"
            #expect(text.contains("redis[s]://[[user]:password@]host[:port][/db]"))
            #expect(text.contains("invalid Redis URL"))
        }
    }

    @Test func badURLErrorMasksThePassword() {
        do {
            _ = try RedisClientConfiguration(url: "redis://admin:hunter2@127.0.0.1:notaport")
            Issue.record("accepted a bad port")
        } catch {
            let text = "\(error)"
            #expect(!text.contains("hunter2"))
            #expect(text.contains("redis://admin:****@127.0.0.1:notaport"))
        }
    }
}
