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
    }

    @Test(arguments: [
        "http://127.0.0.1:6379",
        "rediss://127.0.0.1",
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
            #expect(text.contains("redis://[[user]:password@]host[:port][/db]"))
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
