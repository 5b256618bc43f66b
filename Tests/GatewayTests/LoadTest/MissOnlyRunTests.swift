import CacheModel
import Foundation
import Gateway
import Invalidation
import LoadTest
import Postgres
import Testing
import TestSupport

/// `quicksell-loadtest run --mode miss-only` against a real gateway with a cold cache: every
/// user key is requested exactly once, so every request is a miss and a fill (the
/// benchmark's miss-path figure), none is shared by single flight, none is a hit.
@Suite(.serialized) struct MissOnlyRunTests {
    @Test func everyUserIsRequestedOnceAndEachRequestIsAFill() async throws {
        let harness = try await GatewayHarness(label: "missonly", invalidation: InvalidationSettings()) { connection in
            let options = SeedOptions(users: 300, seed: 3, referenceTime: Int64(Date().timeIntervalSince1970))
            _ = try Seeder(connection: connection, options: options).run()
        }
        defer { Task { await harness.stop() } }
        try await harness.waitForListener()

        let options = RunOptions(port: harness.port, postgresURL: harness.database.url, durationSeconds: 60,
                                 warmupSeconds: 0, connections: 12, threads: 6, pipelineDepth: 1,
                                 mix: [.user: 1], mode: .missOnly, progress: false)
        let report = try await Task.detached { try LoadRunner(options: options).run() }.value
        print(ReportTable.render(report))

        #expect(report.errorCount == 0, "errors \(report.errors)")
        #expect(report.requests == 300)
        #expect(report.measuredSeconds < 30, "the run ends when every key was requested")
        let user = try #require(report.families.first { $0.family == .user }?.gateway)
        #expect(user.misses == 300, "misses \(user.misses)")
        #expect(user.hits + user.negativeHits == 0, "hits \(user.hits), negative hits \(user.negativeHits)")
        #expect(user.fills + user.absentFills == 300, "fills \(user.fills), absent fills \(user.absentFills)")
        let fields = try harness.familyCounters(.user)
        #expect(fields["misses"] == 300)
    }
}
