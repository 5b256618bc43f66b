/// A tiny seeded random number generator (SplitMix64).
///
/// The seeder must give byte-identical data for the same seed on every machine and Swift
/// version, which `SystemRandomNumberGenerator` and the standard library's `random(in:)`
/// algorithms do not promise. Every draw here is our own integer arithmetic.
public struct SplitMix64: Sendable {
    private var state: UInt64

    /// A generator for one independent stream: `seed` is the user's seed, `stream` tells
    /// tables (and entities) apart so that adding a draw in one never shifts another.
    public init(seed: UInt64, stream: UInt64 = 0, entity: UInt64 = 0) {
        state = SplitMix64.mix(seed ^ SplitMix64.mix(stream &+ 0x5EED) ^ SplitMix64.mix(entity &* 0xA24B_AED4_963E_E407 &+ 1))
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.mix(state)
    }

    /// A value in `range` (multiply-shift; the tiny bias is irrelevant for sample data).
    public mutating func int(_ range: ClosedRange<Int>) -> Int {
        let width = UInt64(range.upperBound - range.lowerBound) &+ 1
        if width == 0 { return Int(truncatingIfNeeded: next()) }
        return range.lowerBound + Int(next().multipliedFullWidth(by: width).high)
    }

    /// A value in `range` for 64-bit time arithmetic.
    public mutating func int64(_ range: ClosedRange<Int64>) -> Int64 {
        Int64(int(Int(range.lowerBound)...Int(range.upperBound)))
    }

    /// True with probability `percent`/100.
    public mutating func percent(_ percent: Int) -> Bool {
        int(0...99) < percent
    }

    /// One element of a non-empty array.
    public mutating func pick<Element>(_ elements: [Element]) -> Element {
        elements[int(0...(elements.count - 1))]
    }

    /// An index chosen by integer weights (e.g. `[65, 15, 20]`).
    public mutating func weighted(_ weights: [Int]) -> Int {
        var roll = int(0...(weights.reduce(0, +) - 1))
        for (index, weight) in weights.enumerated() {
            if roll < weight { return index }
            roll -= weight
        }
        return weights.count - 1
    }

    /// `count` lowercase hexadecimal digits.
    public mutating func hex(_ count: Int) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes = [UInt8](repeating: 0, count: count)
        var bits = next()
        for index in 0..<count {
            if index % 16 == 15 { bits = next() }
            bytes[index] = digits[Int(bits & 15)]
            bits >>= 4
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `count` characters of `alphabet`.
    public mutating func characters(_ count: Int, from alphabet: [UInt8]) -> String {
        var bytes = [UInt8](repeating: 0, count: count)
        for index in 0..<count { bytes[index] = alphabet[int(0...(alphabet.count - 1))] }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// SplitMix64's finaliser: a strong 64-bit mix.
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
