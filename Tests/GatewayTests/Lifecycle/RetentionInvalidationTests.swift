import Foundation
import Invalidation
import Retention
import Testing
import TestSupport

/// Issue 25: a listing that leaves `listings` for the archive stops being served at once:
/// the move's DELETEs fire the ordinary invalidation triggers, so `listing:{id}` and
/// `marketplace_listings:{id}` leave Redis through the gateway's own source, on each source.
@Suite(.serialized) struct RetentionInvalidationTests {
    @Test(arguments: [InvalidationSource.wal, .notify])
    func archivingADeletedListingUnlinksItsKeys(source: InvalidationSource) async throws {
        let harness = try await GatewayHarness(label: "retention_inval_\(source)", setUp: Fixtures.load) {
            $0.invalidation.source = source
        }
        defer { Task { await harness.stop() } }
        try await harness.waitForListener()
        let client = try harness.client()
        let redis = try harness.directRedis()
        let database = try harness.database.connect()
        #expect(try client.command("GET", "listing:10").string?.contains("Lamp") == true)
        #expect(try client.command("GET", "marketplace_listings:10").string?.contains("EB-1") == true)

        // Deleted by its owner: not served any more (the listing query reads only live rows)…
        try database.execute("UPDATE listings SET deleted_at = LOCALTIMESTAMP WHERE id = 10")
        #expect(try await eventually(seconds: 10) { try client.command("GET", "listing:10").string == nil })
        #expect(try await eventually(seconds: 10) { try client.command("GET", "marketplace_listings:10").string == nil })
        // …and both absences are cached (the negative marker), as is listing 11's (deleted in 2026-01).
        _ = try client.command("GET", "listing:11")
        #expect(try client.command("GET", "listing:12").string?.contains("Bike") == true)  // live, stays cached
        for key in ["listing:10", "marketplace_listings:10", "listing:11"] {
            #expect(try Self.exists(key, in: redis), "\(key) is not cached")
        }

        let outcome = try RetentionRunner(connection: database,
                                          settings: .init(directory: NSTemporaryDirectory() + "qs-ret-\(UUID().uuidString.prefix(8))")).run()
        #expect(outcome.report(.deletedListings)?.count("listings") == 2)
        #expect(outcome.report(.deletedListings)?.count("marketplace_listings") == 2)
        #expect(outcome.report(.listingArchive)?.count("listings") == 1)  // 11: deleted over 90 days ago

        // The move's DELETEs reached Redis through the source: the keys are gone.
        let unlinked = try await eventually(seconds: 10) {
            try ["listing:10", "marketplace_listings:10", "listing:11"].allSatisfy { try !Self.exists($0, in: redis) }
        }
        #expect(unlinked, "source \(source): archived listings' keys still in Redis")
        // Key by key, not a family flush: a live listing's value stays.
        #expect(try Self.exists("listing:12", in: redis), "source \(source): the listing family was flushed")
        #expect(try client.command("GET", "listing:10").string == nil)
        #expect(try database.execute("SELECT count(*) FROM listings_archive WHERE id = 10").scalarInt() == 1)
    }

    private static func exists(_ key: String, in redis: RedisTestClient) throws -> Bool {
        guard case .integer(let count) = try redis.command("EXISTS", key) else { return false }
        return count == 1
    }
}
