import TestSupport
import NIOCore
import RESP
import Testing

private func decodeValues(_ input: String, limits: RESPLimits = .default) -> Outcome<RESPValue> {
    feedValues(bytes(input), limits: limits)
}

@Suite struct ValueDecoderTests {
    static let values: [RESPValue] = RoundTripTests.resp2Values + RoundTripTests.resp3Values.filter {
        if case .double(let d) = $0 { return !d.isNaN }
        return true
    }
    static let stream: [UInt8] = values.flatMap { encode($0, .resp3) }
    static let expected: [RESPValue] = values.map(resp3Normalized)

    @Test func manyValuesFromOneBuffer() {
        let outcome = feedValues(Self.stream)
        #expect(outcome.error == nil)
        #expect(outcome.items == Self.expected)
        #expect(outcome.leftover == 0)
    }

    @Test func sameValuesAtEverySplitPoint() {
        for cut in 0...Self.stream.count {
            let outcome = feedValues(Self.stream, cuts: [cut])
            #expect(outcome.error == nil, "cut \(cut)")
            #expect(outcome.items == Self.expected, "cut \(cut)")
        }
    }

    @Test func sameValuesOneByteAtATime() {
        let outcome = feedValues(Self.stream, cuts: Array(1..<Self.stream.count))
        #expect(outcome.error == nil)
        #expect(outcome.items == Self.expected)
        #expect(outcome.leftover == 0)
    }

    @Test func randomPipelinesAtRandomSplits() {
        var generator = ValueGenerator(rng: SeededRandom(seed: 7), resp3: true, maxDepth: 6)
        for _ in 0..<300 {
            let values = (0..<generator.rng.int(1...6)).map { _ in generator.value() }
            let wire = values.flatMap { encode($0, .resp3) }
            var cuts: [Int] = []
            var position = 0
            while true {
                position += generator.rng.int(1...17)
                if position >= wire.count { break }
                cuts.append(position)
            }
            let outcome = feedValues(wire, cuts: cuts)
            #expect(outcome.error == nil)
            #expect(outcome.items == values.map(resp3Normalized))
        }
    }

    @Test func partialAggregateKeepsOnlyReceivedElements() throws {
        var decoder = RESPValueDecoder()
        var buffer = buf("*3\r\n:1\r\n*2\r\n:2\r\n")
        #expect(try decoder.decode(buffer: &buffer) == nil)
        #expect(decoder.openAggregates == 2)
        #expect(buffer.readableBytes == 0)
        buffer.writeString(":3\r\n$1\r\nx\r\n+next\r\n")
        #expect(try decoder.decode(buffer: &buffer) == .array([.integer(1), .array([.integer(2), .integer(3)]), .bulkString("x")]))
        #expect(try decoder.decode(buffer: &buffer) == .simpleString("next"))
        #expect(decoder.openAggregates == 0)
    }

    @Test(arguments: [
        ("?\r\n", RESPProtocolError.Code.invalidTypeByte, "Protocol error: invalid type byte '?'"),
        (":12a\r\n", .invalidInteger, "Protocol error: invalid integer"),
        (":99999999999999999999\r\n", .invalidInteger, "Protocol error: invalid integer"),
        ("$abc\r\n", .invalidBulkLength, "Protocol error: invalid bulk length"),
        ("$-2\r\n", .invalidBulkLength, "Protocol error: invalid bulk length"),
        ("$3\r\nabcXY", .missingCRLF, "Protocol error: expected CRLF after bulk payload"),
        ("*-2\r\n", .invalidMultibulkLength, "Protocol error: invalid multibulk length"),
        ("%x\r\n", .invalidMultibulkLength, "Protocol error: invalid multibulk length"),
        ("_x\r\n", .invalidNull, "Protocol error: invalid null"),
        ("#x\r\n", .invalidBoolean, "Protocol error: invalid boolean"),
        (",1.5x\r\n", .invalidDouble, "Protocol error: invalid double"),
        ("(12a\r\n", .invalidBigNumber, "Protocol error: invalid big number"),
        ("=3\r\ntxt\r\n", .invalidVerbatimString, "Protocol error: invalid verbatim string"),
        ("=5\r\ntxtxy\r\n", .invalidVerbatimString, "Protocol error: invalid verbatim string"),
    ])
    func garbageIsRejected(_ input: String, _ code: RESPProtocolError.Code, _ message: String) {
        let outcome = decodeValues(input)
        #expect(outcome.error?.code == code)
        #expect(outcome.error?.message == message)
    }

    @Test func nioProcessorDeliversValues() throws {
        let processor = NIOSingleStepByteToMessageProcessor(RESPValueDecoder())
        var seen: [RESPValue] = []
        try processor.process(buffer: buf("+OK\r\n$3\r\nab")) { seen.append($0) }
        try processor.process(buffer: buf("c\r\n")) { seen.append($0) }
        #expect(seen == [.simpleString("OK"), .bulkString("abc")])
    }
}

@Suite struct ValueLimitTests {
    @Test func bulkLengthLimit() {
        let limits = RESPLimits(maxBulkLength: 4)
        #expect(decodeValues("$4\r\nabcd\r\n", limits: limits).items == [.bulkString("abcd")])
        #expect(decodeValues("$5\r\nabcde\r\n", limits: limits).error?.code == .invalidBulkLength)
        #expect(decodeValues("!5\r\nabcde\r\n", limits: limits).error?.code == .invalidBulkLength)
    }

    @Test func hugeBulkAnnouncementIsRejectedFromItsHeader() {
        let outcome = decodeValues("$2147483648\r\n")
        #expect(outcome.error?.message == "Protocol error: invalid bulk length")
    }

    @Test func elementCountLimit() {
        let limits = RESPLimits(maxAggregateElements: 2)
        #expect(decodeValues("*2\r\n:1\r\n:2\r\n", limits: limits).items.count == 1)
        #expect(decodeValues("*3\r\n", limits: limits).error?.code == .invalidMultibulkLength)
        #expect(decodeValues("%3\r\n", limits: limits).error?.code == .invalidMultibulkLength)
        #expect(decodeValues("*1073741825\r\n").error?.code == .invalidMultibulkLength)
    }

    @Test func hugeCountDoesNotPreallocate() throws {
        var decoder = RESPValueDecoder()
        var buffer = buf("*1073741824\r\n:1\r\n")
        #expect(try decoder.decode(buffer: &buffer) == nil)
        #expect(decoder.openAggregates == 1)
    }

    @Test func depthLimit() {
        let limits = RESPLimits(maxNestingDepth: 3)
        #expect(decodeValues("*1\r\n*1\r\n*0\r\n", limits: limits).items == [.array([.array([.array([])])])])
        let deep = decodeValues("*1\r\n*1\r\n*1\r\n*0\r\n", limits: limits)
        #expect(deep.error?.code == .tooDeepNesting)
        #expect(deep.error?.message == "Protocol error: nesting deeper than 3 levels")
        #expect(decodeValues("*1\r\n%1\r\n+k\r\n|0\r\n:1\r\n", limits: limits).error == nil)
        #expect(decodeValues("*1\r\n%1\r\n+k\r\n*1\r\n|0\r\n:1\r\n", limits: limits).error?.code == .tooDeepNesting)
    }

    @Test func tenThousandNestedArraysGiveTheDepthErrorWithoutCrashing() throws {
        let input = String(repeating: "*1\r\n", count: 10_000) + ":1\r\n"
        var decoder = RESPValueDecoder()
        var buffer = buf(input)
        #expect(throws: RESPProtocolError.self) { try decoder.decode(buffer: &buffer) }
        #expect(decoder.openAggregates == RESPLimits.default.maxNestingDepth)
        let outcome = decodeValues(input)
        #expect(outcome.error?.code == .tooDeepNesting)
        // The request side never nests: the second header is not a bulk string.
        #expect(feedRequests(bytes(input)).error?.message == "Protocol error: expected '$', got '*'")
    }

    @Test func lineLengthLimit() {
        let limits = RESPLimits(maxInlineLength: 8)
        // The limit counts the line's content, after the type byte.
        #expect(decodeValues("+12345678\r\n", limits: limits).items.count == 1)
        #expect(decodeValues("+123456789\r\n", limits: limits).error?.code == .tooBigLine)
        #expect(decodeValues("+123456789", limits: limits).error?.code == .tooBigLine)
        #expect(decodeValues("+12345678\r", limits: limits).error == nil)
        #expect(decodeValues("+12345678\r", limits: limits).items.isEmpty)
    }
}
