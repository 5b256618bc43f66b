import LoadTest
import Testing

/// The generator is reproducible, stream-separated and stays in range.
@Suite struct SplitMix64Tests {
    @Test func isReproducibleAndStreamsDiffer() {
        var a = SplitMix64(seed: 42, stream: 1)
        var b = SplitMix64(seed: 42, stream: 1)
        var c = SplitMix64(seed: 42, stream: 2)
        let fromA = (0..<8).map { _ in a.next() }
        #expect(fromA == (0..<8).map { _ in b.next() })
        #expect(fromA != (0..<8).map { _ in c.next() })
    }

    @Test func staysInRange() {
        var rng = SplitMix64(seed: 1)
        var seen = Set<Int>()
        for _ in 0..<10_000 {
            let value = rng.int(-3...3)
            #expect((-3...3).contains(value))
            seen.insert(value)
        }
        #expect(seen.count == 7)
    }
}
