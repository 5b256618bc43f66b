import TestSupport
import NIOCore
import RESP
import Testing

/// In RESP3, Redis writes every null kind as `_`, so that is what decodes back.
func resp3Normalized(_ value: RESPValue) -> RESPValue {
    switch value {
    case .nullBulkString, .nullArray: return .null
    case .array(let e): return .array(e.map(resp3Normalized))
    case .set(let e): return .set(e.map(resp3Normalized))
    case .push(let e): return .push(e.map(resp3Normalized))
    case .map(let p): return .map(p.map { RESPPair(key: resp3Normalized($0.key), value: resp3Normalized($0.value)) })
    case .attribute(let p, let v):
        return .attribute(p.map { RESPPair(key: resp3Normalized($0.key), value: resp3Normalized($0.value)) }, resp3Normalized(v))
    default: return value
    }
}

func decodeOne(_ wire: [UInt8]) throws -> RESPValue? {
    var decoder = RESPValueDecoder()
    var buffer = ByteBuffer(bytes: wire)
    let value = try decoder.decode(buffer: &buffer)
    #expect(buffer.readableBytes == 0)
    return value
}

@Suite struct RoundTripTests {
    static let resp2Values: [RESPValue] = [
        .simpleString("OK"), .simpleString(""), .error("ERR unknown command 'FOO'"),
        .integer(0), .integer(-1), .integer(Int64.max), .integer(Int64.min),
        .bulkString("hello"), .bulkString(""), .bulkString(ByteBuffer(bytes: [0, 13, 10, 255, 36])),
        .nullBulkString, .nullArray, .array([]),
        .array([.bulkString("a"), .integer(2), .nullBulkString, .array([.simpleString("x"), .nullArray])]),
    ]

    static let resp3Values: [RESPValue] = [
        .null, .boolean(true), .boolean(false), .double(1.5), .double(-0.25), .double(.infinity), .double(-.infinity),
        .double(1e300), .double(3.141592653589793), .bigNumber(buf("3492890328409238509324850943850943825024385")),
        .bigNumber(buf("-1")), .bulkError(buf("SYNTAX invalid\r\nsyntax")), .bulkError(buf("")),
        .verbatimString(format: buf("txt"), body: buf("Some string")), .verbatimString(format: buf("mkd"), body: buf("")),
        .map([]), .map([RESPPair(key: .simpleString("first"), value: .integer(1)), RESPPair(key: .bulkString("second"), value: .map([]))]),
        .set([]), .set([.bulkString("a"), .integer(1), .null]),
        .push([.bulkString("invalidate"), .array([.bulkString("user:1")])]),
        .attribute([RESPPair(key: .simpleString("ttl"), value: .integer(3600))], .bulkString("v")),
        .attribute([], .array([.integer(1)])),
        .array([.map([RESPPair(key: .null, value: .set([.boolean(true)]))]), .double(0)]),
    ]

    @Test(arguments: resp2Values)
    func resp2ValuesRoundTripInRESP2(_ value: RESPValue) throws {
        #expect(try decodeOne(encode(value, .resp2)) == value)
    }

    @Test(arguments: resp2Values + resp3Values)
    func everyValueRoundTripsInRESP3(_ value: RESPValue) throws {
        #expect(try decodeOne(encode(value, .resp3)) == resp3Normalized(value))
    }

    @Test func nanRoundTripsAsNaN() throws {
        guard case .double(let d)? = try decodeOne(encode(.double(.nan), .resp3)) else {
            Issue.record("not a double")
            return
        }
        #expect(d.isNaN)
    }

    @Test func randomValuesRoundTripInBothVersions() throws {
        var generator = ValueGenerator(rng: SeededRandom(seed: 42), resp3: true, maxDepth: 5)
        var generator2 = ValueGenerator(rng: SeededRandom(seed: 43), resp3: false, maxDepth: 5)
        for _ in 0..<2000 {
            let v3 = generator.value()
            #expect(try decodeOne(encode(v3, .resp3)) == resp3Normalized(v3))
            let v2 = generator2.value()
            #expect(try decodeOne(encode(v2, .resp2)) == v2)
        }
    }

    @Test func decodedPayloadsShareTheInputStorage() throws {
        // The slice points 4 bytes past the start of the original storage.
        let input = buf("$5\r\nhello\r\n")
        var copy = input
        var d2 = RESPValueDecoder()
        guard case .bulkString(let slice)? = try d2.decode(buffer: &copy) else {
            Issue.record("expected a bulk string")
            return
        }
        let base = input.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        let sliceBase = slice.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        #expect(sliceBase == base + 4)
    }
}

@Suite struct EncoderFallbackTests {
    @Test(arguments: [
        (RESPValue.null, "$-1\r\n", "_\r\n"),
        (.nullBulkString, "$-1\r\n", "_\r\n"),
        (.nullArray, "*-1\r\n", "_\r\n"),
        (.boolean(true), ":1\r\n", "#t\r\n"),
        (.boolean(false), ":0\r\n", "#f\r\n"),
        (.double(1.5), "$3\r\n1.5\r\n", ",1.5\r\n"),
        (.double(3.14), "$18\r\n3.1400000000000001\r\n", ",3.1400000000000001\r\n"),
        (.double(100), "$3\r\n100\r\n", ",100\r\n"),
        (.double(1e20), "$5\r\n1e+20\r\n", ",1e+20\r\n"),
        (.double(.infinity), "$3\r\ninf\r\n", ",inf\r\n"),
        (.double(-.infinity), "$4\r\n-inf\r\n", ",-inf\r\n"),
        (.bigNumber(buf("12345678901234567890")), "$20\r\n12345678901234567890\r\n", "(12345678901234567890\r\n"),
        (.verbatimString(format: buf("txt"), body: buf("hi")), "$2\r\nhi\r\n", "=6\r\ntxt:hi\r\n"),
        (.bulkError(buf("ERR bad\r\nthing")), "-ERR bad  thing\r\n", "!14\r\nERR bad\r\nthing\r\n"),
        (.map([RESPPair(key: .bulkString("a"), value: .integer(1))]), "*2\r\n$1\r\na\r\n:1\r\n", "%1\r\n$1\r\na\r\n:1\r\n"),
        (.set([.integer(1), .integer(2)]), "*2\r\n:1\r\n:2\r\n", "~2\r\n:1\r\n:2\r\n"),
        (.push([.bulkString("message")]), "*1\r\n$7\r\nmessage\r\n", ">1\r\n$7\r\nmessage\r\n"),
        (.attribute([RESPPair(key: .simpleString("k"), value: .integer(1))], .integer(7)), ":7\r\n", "|1\r\n+k\r\n:1\r\n:7\r\n"),
        (.integer(-42), ":-42\r\n", ":-42\r\n"),
        (.simpleString("a\r\nb"), "+a  b\r\n", "+a  b\r\n"),
    ] as [(RESPValue, String, String)])
    func fallbacksMatchRedisBytes(_ value: RESPValue, _ resp2: String, _ resp3: String) {
        #expect(encodeString(value, .resp2) == resp2)
        #expect(encodeString(value, .resp3) == resp3)
    }

    @Test func hotPathHelpersWriteExactBytes() {
        var out = ByteBuffer()
        out.writeRESPArrayHeader(3)
        out.writeRESPBulkString(buf("GET"))
        out.writeRESPBulkString("key")
        out.writeRESPBulkString(bytes: [0, 1])
        out.writeRESPSimpleString("OK")
        out.writeRESPError("ERR no")
        out.writeRESPError("ERR a\r\nb")
        out.writeRESPInteger(Int64.min)
        out.writeRESPNull(version: .resp2)
        out.writeRESPNull(version: .resp3)
        out.writeRESPNullArray(version: .resp2)
        out.writeRESPMapHeader(2, version: .resp2)
        out.writeRESPMapHeader(2, version: .resp3)
        out.writeRESPSetHeader(1, version: .resp3)
        out.writeRESPPushHeader(1, version: .resp3)
        #expect(String(buffer: out) == "*3\r\n$3\r\nGET\r\n$3\r\nkey\r\n$2\r\n\u{0}\u{1}\r\n+OK\r\n-ERR no\r\n-ERR a  b\r\n:-9223372036854775808\r\n$-1\r\n_\r\n*-1\r\n*4\r\n%2\r\n~1\r\n>1\r\n")
    }

    @Test func writeRESPValueReportsBytesWritten() {
        var out = ByteBuffer()
        let n = out.writeRESPValue(.array([.bulkString("ab"), .integer(5)]), version: .resp2)
        #expect(n == out.readableBytes)
        #expect(n == "*2\r\n$2\r\nab\r\n:5\r\n".utf8.count)
    }
}
