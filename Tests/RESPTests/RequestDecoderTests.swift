import NIOCore
import RESP
import Testing

private func args(_ request: RESPRequest) -> [String] {
    request.arguments.map { String(buffer: $0) }
}

private func decodeRequests(_ input: String, limits: RESPLimits = .default) -> Outcome<RESPRequest> {
    feedRequests(bytes(input), limits: limits)
}

@Suite struct RequestDecoderTests {
    @Test func multibulkRequest() {
        let outcome = decodeRequests("*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n")
        #expect(outcome.error == nil)
        #expect(outcome.items == [RESPRequest("ECHO", "hi")])
        #expect(outcome.leftover == 0)
    }

    @Test func binaryAndEmptyArguments() {
        let input = multibulk([bytes("SET"), [0, 13, 10, 255], []])
        let outcome = feedRequests(input)
        #expect(outcome.items.count == 1)
        #expect(outcome.items.first?.arguments.map { Array($0.readableBytesView) } == [bytes("SET"), [0, 13, 10, 255], []])
    }

    @Test func argumentsAreSlicesOfTheReceiveBuffer() throws {
        var decoder = RESPRequestDecoder()
        let input = buf("*1\r\n$4\r\nPING\r\n")
        var buffer = input
        let request = try #require(try decoder.decode(buffer: &buffer))
        let base = input.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        let argBase = request.arguments[0].withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        #expect(argBase == base + 8)
    }

    static let pipeline: [UInt8] = {
        var input: [UInt8] = []
        input += multibulk([bytes("GET"), bytes("listing:42")])
        input += bytes("PING\r\n")
        input += bytes("*0\r\n")
        input += bytes("\r\n   \n")
        input += multibulk([bytes("MGET"), bytes("user:1"), [], [0, 13, 10, 36, 42]])
        input += bytes("ECHO \"hello world\" 'it\\'s' \"\\x41\\n\"\n")
        input += bytes("*-1\r\n")
        input += multibulk([bytes("SET"), Array(repeating: 120, count: 300)])
        return input
    }()

    static let pipelineExpected: [RESPRequest] = [
        RESPRequest("GET", "listing:42"),
        RESPRequest("PING"),
        RESPRequest(arguments: [buf("MGET"), buf("user:1"), buf(""), buf([0, 13, 10, 36, 42])]),
        RESPRequest("ECHO", "hello world", "it's", "A\n"),
        RESPRequest("SET", String(repeating: "x", count: 300)),
    ]

    @Test func pipelineDecodesWhole() {
        let outcome = feedRequests(Self.pipeline)
        #expect(outcome.error == nil)
        #expect(outcome.items == Self.pipelineExpected)
        #expect(outcome.leftover == 0)
    }

    @Test func pipelineDecodesTheSameAtEverySplitPoint() {
        for cut in 0...Self.pipeline.count {
            let outcome = feedRequests(Self.pipeline, cuts: [cut])
            #expect(outcome.error == nil, "cut \(cut)")
            #expect(outcome.items == Self.pipelineExpected, "cut \(cut)")
        }
    }

    @Test func pipelineDecodesTheSameOneByteAtATime() {
        let outcome = feedRequests(Self.pipeline, cuts: Array(1..<Self.pipeline.count))
        #expect(outcome.error == nil)
        #expect(outcome.items == Self.pipelineExpected)
        #expect(outcome.leftover == 0)
    }

    @Test func requestsAreReturnedOnlyWhenComplete() throws {
        var decoder = RESPRequestDecoder()
        var buffer = buf("*2\r\n$3\r\nGET\r\n$1")
        #expect(try decoder.decode(buffer: &buffer) == nil)
        #expect(decoder.pendingArguments == 1)
        buffer.writeString("\r\nk\r")
        #expect(try decoder.decode(buffer: &buffer) == nil)
        buffer.writeString("\n")
        #expect(try decoder.decode(buffer: &buffer) == RESPRequest("GET", "k"))
        #expect(decoder.pendingArguments == 0)
    }

    @Test func aRequestIsInProgressOnceItsHeaderIsConsumedUntilItsLastArgument() throws {
        var decoder = RESPRequestDecoder()
        var buffer = buf("*2\r\n")
        #expect(try decoder.decode(buffer: &buffer) == nil)
        #expect(buffer.readableBytes == 0 && decoder.isMidRequest)
        buffer.writeString("$3\r\nGET\r\n")
        #expect(try decoder.decode(buffer: &buffer) == nil)
        #expect(buffer.readableBytes == 0 && decoder.isMidRequest)
        buffer.writeString("$1\r\nk\r\n")
        #expect(try decoder.decode(buffer: &buffer) == RESPRequest("GET", "k"))
        #expect(!decoder.isMidRequest)
    }

    @Test(arguments: [
        ("*x\r\n", "Protocol error: invalid multibulk length"),
        ("*01\r\n", "Protocol error: invalid multibulk length"),
        ("*1\r\n$x\r\n", "Protocol error: invalid bulk length"),
        ("*1\r\n$-1\r\n", "Protocol error: invalid bulk length"),
        ("*1\r\nX\r\n", "Protocol error: expected '$', got 'X'"),
        ("*2\r\n$3\r\nGET\r\n:1\r\n", "Protocol error: expected '$', got ':'"),
        ("ECHO \"hello\n", "Protocol error: unbalanced quotes in request"),
        ("ECHO 'hello\n", "Protocol error: unbalanced quotes in request"),
        ("ECHO \"a\"b\n", "Protocol error: unbalanced quotes in request"),
        ("*1\r\n$3\r\nGETXX", "Protocol error: expected CRLF after bulk payload"),
    ])
    func errorsUseRedisTexts(_ input: String, _ message: String) {
        let outcome = decodeRequests(input)
        #expect(outcome.error?.message == message)
    }

    @Test func errorsAfterGoodRequestsKeepTheGoodOnes() {
        let outcome = decodeRequests("PING\r\n*1\r\n$4\r\nPING\r\n*1\r\n!x\r\n")
        #expect(outcome.items == [RESPRequest("PING"), RESPRequest("PING")])
        #expect(outcome.error?.code == .unexpectedBulkPrefix)
    }

    @Test func nioProcessorDeliversRequests() throws {
        let processor = NIOSingleStepByteToMessageProcessor(RESPRequestDecoder())
        var seen: [RESPRequest] = []
        try processor.process(buffer: buf("*1\r\n$4\r\nPING\r\nEC")) { seen.append($0) }
        try processor.process(buffer: buf("HO hi\r\n")) { seen.append($0) }
        #expect(seen == [RESPRequest("PING"), RESPRequest("ECHO", "hi")])
        // And it fits NIO's handler, as the server will use it.
        _ = ByteToMessageHandler(RESPRequestDecoder(limits: .default))
    }
}

@Suite struct InlineCommandTests {
    @Test(arguments: [
        ("PING\r\n", ["PING"]),
        ("PING\n", ["PING"]),
        ("  GET   key  \r\n", ["GET", "key"]),
        ("ECHO \"hello world\"\r\n", ["ECHO", "hello world"]),
        ("SET k \"a\\nb\\r\\t\\\\\\\"\"\r\n", ["SET", "k", "a\nb\r\t\\\""]),
        ("ECHO \"\\x41\\x7a\\xZZ\"\r\n", ["ECHO", "Az" + "xZZ"]),
        ("ECHO \"\\b\\a\\q\"\r\n", ["ECHO", "\u{8}\u{7}q"]),
        ("ECHO 'it\\'s' 'a\\nb'\r\n", ["ECHO", "it's", "a\\nb"]),
        ("ECHO \"\" ''\r\n", ["ECHO", "", ""]),
        ("ECHO a\"b c\" d\r\n", ["ECHO", "ab c", "d"]),
        ("ECHO\ttab\u{0B}vt\r\n", ["ECHO", "tab\u{0B}vt"]),
        ("ECHO a\u{0}b\r\n", ["ECHO", "a"]),
    ])
    func quotingAndEscapes(_ input: String, _ expected: [String]) {
        let outcome = decodeRequests(input)
        #expect(outcome.error == nil)
        #expect(outcome.items.map(args) == [expected])
    }

    @Test func blankLinesAreSkipped() {
        let outcome = decodeRequests("\r\n\n   \r\n\t\nPING\r\n\r\n")
        #expect(outcome.error == nil)
        #expect(outcome.items.map(args) == [["PING"]])
        #expect(outcome.leftover == 0)
    }

    @Test func unquotedArgumentsAreSlices() throws {
        var decoder = RESPRequestDecoder()
        let input = buf("GET \"key\"\r\n")
        var buffer = input
        let request = try #require(try decoder.decode(buffer: &buffer))
        let base = input.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        let starts = request.arguments.map { $0.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) } }
        #expect(starts == [base, base + 5])
    }

    @Test(arguments: ["ECHO \"abc\r\n", "ECHO 'abc\r\n", "ECHO \"abc\"def\r\n", "ECHO 'a'b\r\n", "ECHO \"abc\\\"\r\n"])
    func unbalancedQuotesAreErrors(_ input: String) {
        #expect(decodeRequests(input).error?.code == .unbalancedQuotes)
    }
}

@Suite struct RequestLimitTests {
    @Test func bulkLengthLimit() {
        let limits = RESPLimits(maxBulkLength: 10)
        #expect(feedRequests(multibulk([Array(repeating: 65, count: 10)]), limits: limits).items.count == 1)
        #expect(feedRequests(multibulk([Array(repeating: 65, count: 11)]), limits: limits).error?.message == "Protocol error: invalid bulk length")
    }

    @Test func hugeBulkAnnouncementIsRejectedFromItsHeader() {
        // Only the header has arrived: nothing is buffered waiting for 2 GB.
        let outcome = decodeRequests("*1\r\n$2147483648\r\n")
        #expect(outcome.error?.message == "Protocol error: invalid bulk length")
        let defaultMax = decodeRequests("*1\r\n$\(512 * 1024 * 1024 + 1)\r\n")
        #expect(defaultMax.error?.message == "Protocol error: invalid bulk length")
    }

    @Test func elementCountLimit() {
        let limits = RESPLimits(maxAggregateElements: 3)
        #expect(feedRequests(multibulk([[65], [66], [67]]), limits: limits).items.count == 1)
        #expect(feedRequests(multibulk([[65], [66], [67], [68]]), limits: limits).error?.message == "Protocol error: invalid multibulk length")
        #expect(decodeRequests("*1073741825\r\n").error?.message == "Protocol error: invalid multibulk length")
    }

    @Test func hugeCountDoesNotPreallocate() throws {
        var decoder = RESPRequestDecoder()
        var buffer = buf("*1073741824\r\n$1\r\na\r\n")
        #expect(try decoder.decode(buffer: &buffer) == nil)
        #expect(decoder.pendingArguments == 1)
    }

    @Test func inlineLengthLimit() {
        let limits = RESPLimits(maxInlineLength: 16)
        #expect(decodeRequests(String(repeating: "a", count: 16) + "\n", limits: limits).items.count == 1)
        #expect(decodeRequests(String(repeating: "a", count: 15) + "\r\n", limits: limits).items.count == 1)
        #expect(decodeRequests(String(repeating: "a", count: 17) + "\n", limits: limits).error?.message == "Protocol error: too big inline request")
        // Without a newline yet, it fails as soon as more than the limit has arrived.
        #expect(decodeRequests(String(repeating: "a", count: 17), limits: limits).error?.message == "Protocol error: too big inline request")
        #expect(decodeRequests(String(repeating: "a", count: 16), limits: limits).error == nil)
        #expect(decodeRequests(String(repeating: "a", count: 65 * 1024)).error?.message == "Protocol error: too big inline request")
    }

    @Test func countStringLimits() {
        let limits = RESPLimits(maxInlineLength: 16)
        #expect(decodeRequests("*" + String(repeating: "1", count: 16), limits: limits).error?.message == "Protocol error: too big mbulk count string")
        #expect(decodeRequests("*1\r\n$" + String(repeating: "1", count: 16), limits: limits).error?.message == "Protocol error: too big bulk count string")
        #expect(decodeRequests("*" + String(repeating: "1", count: 14), limits: limits).error == nil)
    }
}

@Suite struct ProtocolErrorTests {
    @Test func errorReplyIsWhatRedisSends() {
        // Redis 7.0.15 answers `*1\r\nX\r\n` with `-ERR Protocol error: expected '$', got 'X'\r\n`.
        let error = feedRequests(bytes("*1\r\nX\r\n")).error
        var out = ByteBuffer()
        out.writeRESPError(error?.errorReply ?? "")
        #expect(String(buffer: out) == "-ERR Protocol error: expected '$', got 'X'\r\n")
    }

    @Test func limitsAreClampedToSaneValues() {
        let limits = RESPLimits(maxBulkLength: Int.max, maxAggregateElements: -5, maxNestingDepth: 0, maxInlineLength: Int.max)
        #expect(limits.maxBulkLength == Int(Int32.max))
        #expect(limits.maxAggregateElements == 0)
        #expect(limits.maxNestingDepth == 1)
        #expect(limits.maxInlineLength == Int(Int32.max))
        #expect(RESPLimits.default == RESPLimits(maxBulkLength: 512 << 20, maxAggregateElements: 1 << 30, maxNestingDepth: 32, maxInlineLength: 64 << 10))
    }
}
