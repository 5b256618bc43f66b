import NIOCore
import RESP
import TestSupport


func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
func buf(_ s: String) -> ByteBuffer { ByteBuffer(string: s) }
func buf(_ b: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: b) }

func encode(_ value: RESPValue, _ version: RESPVersion) -> [UInt8] {
    var out = ByteBuffer()
    out.writeRESPValue(value, version: version)
    return Array(out.readableBytesView)
}

func encodeString(_ value: RESPValue, _ version: RESPVersion) -> String {
    String(decoding: encode(value, version), as: UTF8.self)
}

/// Outcome of feeding a whole stream: the values decoded, then how it ended.
struct Outcome<T: Equatable>: Equatable {
    var items: [T]
    var error: RESPProtocolError?
    var leftover: Int
}

/// Feeds `input` to a fresh value decoder, cut at `cuts` (ascending offsets), like NIO would.
func feedValues(_ input: [UInt8], cuts: [Int] = [], limits: RESPLimits = .default) -> Outcome<RESPValue> {
    var decoder = RESPValueDecoder(limits: limits)
    var buffer = ByteBuffer()
    var items: [RESPValue] = []
    var position = 0
    for cut in cuts + [input.count] {
        buffer.writeBytes(input[position..<cut])
        position = cut
        do {
            while let value = try decoder.decode(buffer: &buffer) { items.append(value) }
        } catch {
            return Outcome(items: items, error: error, leftover: buffer.readableBytes)
        }
        buffer.discardReadBytes()
    }
    return Outcome(items: items, error: nil, leftover: buffer.readableBytes)
}

/// Feeds `input` to a fresh request decoder, cut at `cuts`.
func feedRequests(_ input: [UInt8], cuts: [Int] = [], limits: RESPLimits = .default) -> Outcome<RESPRequest> {
    var decoder = RESPRequestDecoder(limits: limits)
    var buffer = ByteBuffer()
    var items: [RESPRequest] = []
    var position = 0
    for cut in cuts + [input.count] {
        buffer.writeBytes(input[position..<cut])
        position = cut
        do {
            while let request = try decoder.decode(buffer: &buffer) { items.append(request) }
        } catch {
            return Outcome(items: items, error: error, leftover: buffer.readableBytes)
        }
        buffer.discardReadBytes()
    }
    return Outcome(items: items, error: nil, leftover: buffer.readableBytes)
}

/// Encodes a request the way clients do: an array of bulk strings.
func multibulk(_ args: [[UInt8]]) -> [UInt8] {
    var out = ByteBuffer()
    out.writeRESPArrayHeader(args.count)
    for arg in args { out.writeRESPBulkString(bytes: arg) }
    return Array(out.readableBytesView)
}

/// Random values for round trips, differential and fuzz tests.
struct ValueGenerator {
    var rng: SeededRandom
    var resp3: Bool
    var maxDepth: Int

    mutating func payload(maxLength: Int = 24, lineSafe: Bool = false) -> ByteBuffer {
        let length = rng.chance(10) ? 0 : rng.int(0...maxLength)
        var out = ByteBuffer()
        for _ in 0..<length {
            var b = rng.chance(50) ? UInt8(rng.int(0x20...0x7E)) : rng.byte()
            if rng.chance(5) { b = [0x0D, 0x0A, 0x00][rng.int(0...2)] }
            if lineSafe && (b == 0x0D || b == 0x0A) { b = UInt8(ascii: "x") }
            out.writeInteger(b)
        }
        return out
    }

    mutating func integer() -> Int64 {
        switch rng.int(0...4) {
        case 0: return Int64(rng.int(-10...10))
        case 1: return Int64.max
        case 2: return Int64.min + 1
        default: return Int64(bitPattern: rng.next())
        }
    }

    mutating func value(depth: Int = 1) -> RESPValue {
        let aggregate = depth < maxDepth && rng.chance(30)
        if aggregate {
            let count = rng.chance(15) ? 0 : rng.int(1...4)
            var elements: [RESPValue] = []
            for _ in 0..<count { elements.append(value(depth: depth + 1)) }
            if !resp3 { return .array(elements) }
            switch rng.int(0...4) {
            case 0: return .array(elements)
            case 1: return .set(elements)
            case 2: return .push(elements)
            case 3:
                var pairs: [RESPPair] = []
                for element in elements { pairs.append(RESPPair(key: value(depth: depth + 1), value: element)) }
                return .map(pairs)
            default:
                if depth + 1 < maxDepth {
                    let pairs = [RESPPair(key: .simpleString("ttl"), value: .integer(integer()))]
                    return .attribute(pairs, .array(elements))
                }
                return .array(elements)
            }
        }
        let kinds = resp3 ? 15 : 6
        switch rng.int(0...(kinds - 1)) {
        case 0: return .simpleString(payload(lineSafe: true))
        case 1: return .error(payload(lineSafe: true))
        case 2: return .integer(integer())
        case 3, 4: return .bulkString(payload(maxLength: 64))
        case 5: return rng.chance(50) ? .nullBulkString : .nullArray
        case 6: return .null
        case 7: return .boolean(rng.chance(50))
        case 8:
            let specials: [Double] = [0, -0.5, 1.5, 3.141592653589793, 1e300, -2.5e-300, .infinity, -.infinity]
            return .double(rng.chance(50) ? specials[rng.int(0...(specials.count - 1))]
                : Double(bitPattern: rng.next() & 0x7FEF_FFFF_FFFF_FFFF))
        case 9: return .bigNumber(ByteBuffer(string: (rng.chance(30) ? "-" : "") + "1234567890123456789012345678901234567890"))
        case 10: return .bulkError(payload())
        case 11: return .verbatimString(format: ByteBuffer(string: rng.chance(50) ? "txt" : "mkd"), body: payload())
        case 12: return .nullBulkString
        case 13: return .bulkString(payload(maxLength: 300))
        default: return .integer(integer())
        }
    }
}
