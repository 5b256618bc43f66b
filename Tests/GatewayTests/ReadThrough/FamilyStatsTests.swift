import CacheModel
import ReadThrough
import Testing

/// `FamilyStats` keeps its counters in an array indexed by family: each family must get
/// counters of its own, or one family's hits would show under another's in `INFO`.
@Suite struct FamilyStatsTests {
    @Test func everyFamilyHasCountersOfItsOwn() {
        let stats = FamilyStats()
        let distinct = Set(KeyFamily.allCases.map { ObjectIdentifier(stats[$0]) })
        #expect(distinct.count == KeyFamily.allCases.count)
        #expect(stats[.userStats] === stats[.userStats])
    }
}
