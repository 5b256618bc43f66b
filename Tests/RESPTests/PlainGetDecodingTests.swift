import NIOCore
import RESP
import Testing
import TestSupport

/// Feeds `input` to a fresh decoder through `decodeNext`, cut at `cuts`; plain GETs come back
/// as `GET key` requests so that outcomes compare with `feedRequests` (the general decoder).
private func feedDecoded(_ input: [UInt8], cuts: [Int] = [], limits: RESPLimits = .default) -> (Outcome<RESPRequest>, gets: Int) {
    var decoder = RESPRequestDecoder(limits: limits)
    var buffer = ByteBuffer()
    var items: [RESPRequest] = []
    var gets = 0
    var position = 0
    for cut in cuts + [input.count] {
        buffer.writeBytes(input[position..<cut])
        position = cut
        do {
            while let decoded = try decoder.decodeNext(buffer: &buffer) {
                switch decoded {
                case .get(let key):
                    gets += 1
                    items.append(RESPRequest(arguments: [buf("GET"), key]))
                case .request(let request):
                    items.append(spellingGetInCapitals(request))
                }
            }
        } catch {
            return (Outcome(items: items, error: error, leftover: buffer.readableBytes), gets)
        }
        buffer.discardReadBytes()
    }
    return (Outcome(items: items, error: nil, leftover: buffer.readableBytes), gets)
}

/// `request` with a two-argument GET's name spelled `GET` (the fast path does not keep its case).
private func spellingGetInCapitals(_ request: RESPRequest) -> RESPRequest {
    guard request.arguments.count == 2, request.arguments[0].readableBytesView.map({ $0 | 0x20 }) == bytes("get")
    else { return request }
    return RESPRequest(arguments: [buf("GET"), request.arguments[1]])
}

/// The general decoder's outcome, GETs spelled as `feedDecoded` spells them.
private func generalOutcome(_ input: [UInt8], cuts: [Int] = [], limits: RESPLimits = .default) -> Outcome<RESPRequest> {
    var outcome = feedRequests(input, cuts: cuts, limits: limits)
    outcome.items = outcome.items.map(spellingGetInCapitals)
    return outcome
}

@Suite struct PlainGetDecodingTests {
    @Test func completeGetComesBackAsItsKeyAlone() throws {
        var decoder = RESPRequestDecoder()
        let input = buf("*2\r\n$3\r\nget\r\n$6\r\nuser:1\r\n")
        var buffer = input
        let decoded = try #require(try decoder.decodeNext(buffer: &buffer))
        #expect(decoded == .get(key: buf("user:1")))
        #expect(buffer.readableBytes == 0)
        // The key is a slice of the receive buffer, not a copy.
        guard case .get(let key) = decoded else { return }
        let base = input.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        #expect(key.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) } == base + 17)
    }

    @Test func otherCommandsAndOddGetsTakeTheGeneralPath() throws {
        let inputs = [
            "*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n",  // another command
            "*3\r\n$3\r\nGET\r\n$1\r\na\r\n$1\r\nb\r\n",  // GET with a wrong arity
            "GET user:1\r\n",  // inline
            "*2\r\n$3\r\nGET\r\n$0\r\n\r\n",  // empty key
            "*2\r\n$3\r\nGEX\r\n$1\r\na\r\n",
        ]
        for input in inputs {
            var decoder = RESPRequestDecoder()
            var buffer = buf(input)
            let decoded = try #require(try decoder.decodeNext(buffer: &buffer))
            guard case .request = decoded else {
                Issue.record("\(input.debugDescription) should not be a plain GET")
                continue
            }
        }
    }

    static let mixedPipeline: [UInt8] = {
        var input: [UInt8] = []
        input += multibulk([bytes("GET"), bytes("user:1000000000001")])
        input += multibulk([bytes("get"), bytes("listing:42")])
        input += bytes("PING\r\n")
        input += multibulk([bytes("MGET"), bytes("user:1"), bytes("user:2")])
        input += multibulk([bytes("GeT"), Array(repeating: 120, count: 300)])
        input += bytes("*0\r\n")
        input += multibulk([bytes("GET"), [0, 13, 10, 36, 42]])
        input += bytes("GET user:7\r\n")
        input += multibulk([bytes("GET"), bytes("user:3"), bytes("extra")])
        input += multibulk([bytes("GET"), bytes("x")])
        return input
    }()

    @Test func pipelinedMixSplitAtEveryByteMatchesTheGeneralDecoder() {
        let whole = feedDecoded(Self.mixedPipeline)
        #expect(whole.0 == generalOutcome(Self.mixedPipeline))
        #expect(whole.0.items.count == 9)  // `*0` is skipped
        #expect(whole.gets == 4)  // the GET right after `*0` is read on by the general decoder
        for cut in 1..<Self.mixedPipeline.count {
            let split = feedDecoded(Self.mixedPipeline, cuts: [cut]).0
            #expect(split == whole.0, "split at byte \(cut)")
        }
    }

    @Test func everyTwoCutsMatchTheGeneralDecoder() {
        let frame = multibulk([bytes("GET"), bytes("user:123")]) + multibulk([bytes("GET"), bytes("user:4")])
        let expected = generalOutcome(frame)
        for first in 1..<frame.count {
            for second in first..<frame.count {
                #expect(feedDecoded(frame, cuts: [first, second]).0 == expected, "cuts \(first), \(second)")
            }
        }
    }

    /// Malformed GET frames fail exactly as in the general decoder (same error, same point).
    @Test func malformedGetFramesFailAsTheGeneralDecoderDoes() {
        let inputs = [
            "*2\r\n$3\r\nGET\r\n$5\r\nuser:1\r\n",  // payload longer than announced
            "*2\r\n$3\r\nGET\r\n$7\r\nuser:1\r\n\r\n",  // shorter than announced
            "*2\r\n$3\r\nGET\r\n$-1\r\n",
            "*2\r\n$3\r\nGET\r\n$06\r\nuser:1\r\n",  // leading zero
            "*2\r\n$3\r\nGET\r\n$6x\r\nuser:1\r\n",
            "*2\r\n$3\r\nGET\r\n$6\rXuser:1\r\n",
            "*2\r\n$3\r\nGET\r\n:6\r\nuser:1\r\n",
            "*2\r\n$3\r\nGET\r\n$99999999999\r\nuser:1\r\n",  // 11 digits, beyond the bulk limit
            "*2\r\n$3\r\nGET\n\n$6\r\nuser:1\r\n",
            "*2\r\n$3\r\nGET\r\n$6\r\nuser:1XY",
        ]
        for input in inputs {
            let general = generalOutcome(bytes(input))
            #expect(general.error != nil, "\(input.debugDescription) should be rejected")
            #expect(feedDecoded(bytes(input)).0 == general, "\(input.debugDescription)")
        }
    }

    @Test func limitsApplyToPlainGetsToo() {
        let input = multibulk([bytes("GET"), bytes("user:1234567")])
        for limits in [RESPLimits(maxBulkLength: 8), RESPLimits(maxAggregateElements: 1), RESPLimits(maxInlineLength: 2)] {
            let general = generalOutcome(input, limits: limits)
            #expect(general.error != nil)
            #expect(feedDecoded(input, limits: limits).0 == general)
        }
    }

    /// Random corruptions of GET pipelines: `decodeNext` and `decode` always agree.
    @Test func mutatedGetPipelinesAgreeWithTheGeneralDecoder() {
        var rng = SeededRandom(seed: 0x6E7)
        let base = Self.mixedPipeline
        for _ in 0..<3_000 {
            var input = base
            for _ in 0..<rng.int(1...3) {
                let index = rng.int(0...(input.count - 1))
                switch rng.int(0...2) {
                case 0: input[index] = rng.byte()
                case 1: input.remove(at: index)
                default: input.insert(rng.chance(50) ? 13 : rng.byte(), at: index)
                }
            }
            let cut = rng.int(0...input.count)
            #expect(feedDecoded(input, cuts: [cut]).0 == generalOutcome(input, cuts: [cut]), "input \(input)")
        }
    }
}
