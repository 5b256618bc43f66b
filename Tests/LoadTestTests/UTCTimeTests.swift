import LoadTest
import Testing

/// The seeder's own calendar arithmetic agrees with known dates.
@Suite struct UTCTimeTests {
    @Test func formatsAndParsesTimestamps() throws {
        #expect(UTCTime.timestamp(0) == "1970-01-01 00:00:00")
        #expect(UTCTime.timestamp(951_782_400) == "2000-02-29 00:00:00")
        #expect(UTCTime.timestamp(1_798_761_599) == "2026-12-31 23:59:59")
        #expect(UTCTime.date(1_798_761_599) == "2026-12-31")
        #expect(UTCTime.parseISO8601("2026-12-31T23:59:59Z") == 1_798_761_599)
        #expect(UTCTime.parseISO8601("2027-01-01T01:59:59+02:00") == 1_798_761_599)
        #expect(UTCTime.parseISO8601("2026-12-31T23:59:59.987Z") == 1_798_761_599)
        #expect(UTCTime.parseISO8601("2026-02-29T00:00:00Z") == nil)
        #expect(UTCTime.parseISO8601("yesterday") == nil)
        #expect(UTCTime.iso8601(1_798_761_599) == "2026-12-31T23:59:59Z")
    }

    @Test func findsTheStartOfTheISOWeekAndMonth() throws {
        // Thursday 2026-11-26 12:34:56 UTC: week from Monday the 23rd, month from the 1st.
        let thursday = try #require(UTCTime.parseISO8601("2026-11-26T12:34:56Z"))
        #expect(UTCTime.timestamp(UTCTime.startOfISOWeek(thursday)) == "2026-11-23 00:00:00")
        #expect(UTCTime.timestamp(UTCTime.startOfMonth(thursday)) == "2026-11-01 00:00:00")
        // Sunday belongs to the week that started six days earlier.
        let sunday = try #require(UTCTime.parseISO8601("2026-11-29T23:59:59Z"))
        #expect(UTCTime.timestamp(UTCTime.startOfISOWeek(sunday)) == "2026-11-23 00:00:00")
        let monday = try #require(UTCTime.parseISO8601("2026-11-30T00:00:00Z"))
        #expect(UTCTime.startOfISOWeek(monday) == monday)
    }
}
