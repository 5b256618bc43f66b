/// How often keys were asked for lately, approximately and in fixed memory: a count-min sketch
/// of small counters that are halved every `sampleSize` increments, so that old popularity fades
/// (TinyLFU's "reset"). The near cache admits a new key only when it is asked for more often
/// than the entry it would push out: a scan of cold keys then passes without evicting the hot set.
struct FrequencySketch {
    private var counters: [UInt8]
    private let mask: Int
    private let sampleSize: Int
    private var additions = 0

    private static let rows = 4
    private static let maximum: UInt8 = 15
    private static let seeds: [UInt64] = [0x9E37_79B9_7F4A_7C15, 0xC2B2_AE3D_27D4_EB4F, 0x1656_67B1_9E37_79F9, 0x85EB_CA77_C2B2_AE63]

    /// `expectedEntries`: about how many keys the cache holds; the sketch is a few times wider.
    init(expectedEntries: Int) {
        var width = 64
        while width < expectedEntries * 2 { width <<= 1 }
        counters = [UInt8](repeating: 0, count: width * Self.rows)
        mask = width - 1
        sampleSize = width * 5
    }

    /// Counts one request for the key with this hash.
    mutating func increment(_ hash: Int) {
        var added = false
        for row in 0..<Self.rows {
            let index = slot(hash, row: row)
            if counters[index] < Self.maximum {
                counters[index] += 1
                added = true
            }
        }
        guard added else { return }
        additions += 1
        if additions >= sampleSize { halve() }
    }

    /// The estimated number of recent requests for the key with this hash (at most 15).
    func frequency(_ hash: Int) -> UInt8 {
        var lowest = Self.maximum
        for row in 0..<Self.rows { lowest = min(lowest, counters[slot(hash, row: row)]) }
        return lowest
    }

    private mutating func halve() {
        for index in counters.indices { counters[index] >>= 1 }
        additions /= 2
    }

    /// Row `row`'s counter for `hash`: each row mixes the hash with its own odd constant.
    private func slot(_ hash: Int, row: Int) -> Int {
        var mixed = UInt64(bitPattern: Int64(hash)) &* Self.seeds[row]
        mixed ^= mixed >> 31
        return row * (mask + 1) + Int(mixed & UInt64(mask))
    }
}
