import LoadTest
import Testing

/// Pure parts of `run`: option parsing, the Zipf sampler, the INFO parser.
struct RunOptionsTests {
    @Test func mixParsesFamiliesAndRejectsUnknownOnes() throws {
        let mix = try RunOptions.parseMix("user=3, leaderboard:weekly=1,user_stats=0")
        #expect(mix == [.user: 3, .leaderboardWeekly: 1, .userStats: 0])
        #expect(throws: RunError.self) { try RunOptions.parseMix("users=1") }
        #expect(throws: RunError.self) { try RunOptions.parseMix("user=-1") }
    }

    @Test func validationNamesTheOption() {
        var options = RunOptions(postgresURL: "x")
        options.writeRate = -1
        #expect(throws: RunError.self) { try options.validate() }
        options.writeRate = 0
        options.threads = 9
        #expect(throws: RunError.self) { try options.validate() }
        options.threads = 2
        #expect((try? options.validate()) != nil)
    }

    @Test func severalTargetsAreParsedAndNeedAThreadEach() throws {
        let targets = try RunOptions.parseTargets("127.0.0.1:6480, 127.0.0.1:6481")
        #expect(targets == [RunOptions.Endpoint(host: "127.0.0.1", port: 6480), RunOptions.Endpoint(host: "127.0.0.1", port: 6481)])
        #expect(throws: RunError.self) { try RunOptions.parseTargets("127.0.0.1:6480,") }
        #expect(throws: RunError.self) { try RunOptions.parseTargets("127.0.0.1:6480,nohost") }
        var options = RunOptions(host: "127.0.0.1", port: 6480, postgresURL: "x", connections: 8, threads: 2)
        options.extraTargets = Array(targets.dropFirst())
        #expect(options.targets.map(\.description) == ["127.0.0.1:6480", "127.0.0.1:6481"])
        #expect((try? options.validate()) != nil)
        options.threads = 1
        #expect(throws: RunError.self) { try options.validate() }
    }

    @Test func zipfIsSkewedAndSeeded() {
        let sampler = ZipfSampler(count: 1_000, skew: 0.99)
        var a = SplitMix64(seed: 9), b = SplitMix64(seed: 9)
        var counts = [Int](repeating: 0, count: 1_000)
        for _ in 0..<100_000 {
            let rank = sampler.next(&a)
            #expect(rank == sampler.next(&b))
            counts[rank] += 1
        }
        // Rank 0 has probability ~1/H(1000, 0.99) ≈ 0.13; the tail is thin.
        #expect(abs(Double(counts[0]) / 100_000 - sampler.probability(0)) < 0.01)
        #expect(counts[0] > 10 * counts[99])
        #expect(sampler.rank(forUniform: 0) == 0)
        #expect(sampler.rank(forUniform: 0.999_999_999) == 999)
    }

    @Test func infoParserReadsFamiliesAndStats() {
        let text = "# Stats\r\nkeyspace_hits:10\r\nkeyspace_misses:2\r\n\r\n# Families\r\n"
            + "family_user:hits=7,misses=2,negative_hits=1,fills=2,absent_fills=0,queries=2,fill_errors=0,query_usec_avg=5\r\n"
            + "family_leaderboard_weekly:hits=3,misses=0,negative_hits=0,fills=0,absent_fills=0,queries=0\r\n"
        let info = InfoSnapshot(text: text)
        #expect(info.keyspaceHits == 10)
        #expect(info.families[.user]?.lookups == 10)
        #expect(info.families[.user]?.hitRate == 0.8)
        #expect(info.families[.leaderboardWeekly]?.hits == 3)
    }
}
