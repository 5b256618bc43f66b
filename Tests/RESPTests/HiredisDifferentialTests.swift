import TestSupport
import CHiredis
import NIOCore
import RESP
import Testing

/// What hiredis 0.14's reader made of a stream: the replies it returned, then its error if any.
struct HiredisOutcome {
    var values: [RESPValue] = []
    var error: String?
}

/// Runs hiredis's reader (the reference parser) over `input`.
func hiredisDecode(_ input: [UInt8]) -> HiredisOutcome {
    var outcome = HiredisOutcome()
    guard let reader = redisReaderCreate() else {
        outcome.error = "redisReaderCreate failed"
        return outcome
    }
    defer { redisReaderFree(reader) }
    let fed = input.withUnsafeBufferPointer { p in
        p.withMemoryRebound(to: CChar.self) { redisReaderFeed(reader, $0.baseAddress, $0.count) }
    }
    guard fed == REDIS_OK else {
        outcome.error = "feed failed"
        return outcome
    }
    while true {
        var reply: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &reply) == REDIS_OK else {
            outcome.error = withUnsafeBytes(of: reader.pointee.errstr) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            return outcome
        }
        guard let reply else { return outcome }
        outcome.values.append(convert(reply.assumingMemoryBound(to: redisReply.self)))
        freeReplyObject(reply)
    }
}

private func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RESPValue {
    let r = reply.pointee
    func payload() -> ByteBuffer {
        guard let str = r.str else { return ByteBuffer() }
        return ByteBuffer(bytes: UnsafeRawBufferPointer(start: str, count: r.len))
    }
    switch r.type {
    case REDIS_REPLY_STRING: return .bulkString(payload())
    case REDIS_REPLY_STATUS: return .simpleString(payload())
    case REDIS_REPLY_ERROR: return .error(payload())
    case REDIS_REPLY_INTEGER: return .integer(r.integer)
    case REDIS_REPLY_NIL: return .nullBulkString
    case REDIS_REPLY_ARRAY:
        var elements: [RESPValue] = []
        for i in 0..<r.elements {
            guard let element = r.element?[i] else { continue }
            elements.append(convert(element))
        }
        return .array(elements)
    default:
        return .simpleString("unknown hiredis reply type \(r.type)")
    }
}

/// hiredis has one nil: compare our two RESP2 null kinds as that one.
func hiredisView(_ value: RESPValue) -> RESPValue {
    switch value {
    case .nullArray: return .nullBulkString
    case .array(let elements): return .array(elements.map(hiredisView))
    default: return value
    }
}

/// True when hiredis 0.14 can return `value`: RESP2 kinds only, at most 8 nested arrays.
func hiredisCanRepresent(_ value: RESPValue, depth: Int = 0) -> Bool {
    switch value {
    case .simpleString, .error, .integer, .bulkString, .nullBulkString, .nullArray: return true
    case .array(let elements): return depth <= 7 && elements.allSatisfy { hiredisCanRepresent($0, depth: depth + 1) }
    default: return false
    }
}

/// hiredis errors that are about what it does not support (RESP3 type bytes, deep nesting),
/// rather than about bad bytes.
func hiredisErrorIsUnsupportedFeature(_ message: String) -> Bool {
    if message.contains("nested multi bulk") { return true }
    for resp3 in ["_", "#", ",", "(", "!", "=", "%", "~", "|", ">"] where message.contains("\"\(resp3)\"") {
        return true
    }
    return false
}

@Suite struct HiredisDifferentialTests {
    /// A random RESP2 stream of several values, nesting depth below hiredis's limit.
    static func randomStream(_ rng: inout SeededRandom) -> (wire: [UInt8], values: [RESPValue]) {
        var generator = ValueGenerator(rng: rng, resp3: false, maxDepth: 6)
        let values = (0..<generator.rng.int(1...8)).map { _ in generator.value() }
        rng = generator.rng
        return (values.flatMap { encode($0, .resp2) }, values)
    }

    @Test func randomValidStreamsDecodeIdenticallyToHiredis() {
        var rng = SeededRandom(seed: 0x5EED_0001)
        for iteration in 0..<4000 {
            let (wire, values) = Self.randomStream(&rng)
            let ours = feedValues(wire)
            let theirs = hiredisDecode(wire)
            #expect(ours.error == nil, "iteration \(iteration)")
            #expect(theirs.error == nil, "iteration \(iteration): \(theirs.error ?? "")")
            #expect(ours.leftover == 0)
            #expect(ours.items == values, "iteration \(iteration)")
            #expect(ours.items.map(hiredisView) == theirs.values, "iteration \(iteration)")
        }
    }

    @Test func hiredisSplitsValuesWhereWeDo() {
        // A value cut anywhere is "need more data" for both, never a different value.
        var rng = SeededRandom(seed: 0x5EED_0002)
        for _ in 0..<300 {
            let (wire, _) = Self.randomStream(&rng)
            let cut = rng.int(0...wire.count)
            let prefix = Array(wire[0..<cut])
            let ours = feedValues(prefix)
            let theirs = hiredisDecode(prefix)
            #expect(ours.error == nil && theirs.error == nil)
            #expect(ours.items.map(hiredisView) == theirs.values)
        }
    }

    /// Mutations that tend to keep a stream parseable, or break it in interesting ways.
    static func mutate(_ wire: inout [UInt8], _ rng: inout SeededRandom) {
        guard !wire.isEmpty else { return }
        let at = rng.int(0...(wire.count - 1))
        let interesting = Array("+-:$*_#,(!=%~|>0123456789\r\n?x".utf8)
        switch rng.int(0...6) {
        case 0: wire[at] = rng.byte()
        case 1: wire[at] = interesting[rng.int(0...(interesting.count - 1))]
        case 2: wire.remove(at: at)
        case 3: wire.insert(interesting[rng.int(0...(interesting.count - 1))], at: at)
        case 4: wire.removeSubrange(at...)
        case 5: wire.insert(contentsOf: Array("99999999999999999999".utf8), at: at)
        default: wire.insert(contentsOf: Array("-7".utf8), at: at)
        }
    }

    @Test func randomMalformedStreamsAreRejectedOrAgreedOn() {
        var rng = SeededRandom(seed: 0x5EED_0003)
        var bothRejected = 0, bothAccepted = 0, onlyWeRejected = 0, unsupportedByHiredis = 0
        for iteration in 0..<4000 {
            var (wire, _) = Self.randomStream(&rng)
            for _ in 0..<rng.int(1...3) { Self.mutate(&wire, &rng) }
            let ours = feedValues(wire)
            let theirs = hiredisDecode(wire)
            let common = min(ours.items.count, theirs.values.count)
            // Up to where either stopped, both read the same values.
            #expect(Array(ours.items.prefix(common).map(hiredisView)) == Array(theirs.values.prefix(common)), "iteration \(iteration)")
            if let hiredisError = theirs.error {
                if hiredisErrorIsUnsupportedFeature(hiredisError) {
                    unsupportedByHiredis += 1
                    if ours.error == nil && ours.items.count > theirs.values.count {
                        #expect(!hiredisCanRepresent(ours.items[theirs.values.count]), "iteration \(iteration)")
                    }
                } else {
                    // hiredis found bad bytes: we must reject too, no later than it did.
                    bothRejected += 1
                    #expect(ours.error != nil, "iteration \(iteration): hiredis said \(hiredisError)")
                    #expect(ours.items.count <= theirs.values.count, "iteration \(iteration)")
                }
            } else if ours.error != nil {
                // hiredis does not check the CRLF after a bulk payload; we do (and nothing else differs).
                onlyWeRejected += 1
                #expect(ours.error?.code == .missingCRLF, "iteration \(iteration): \(ours.error?.message ?? "")")
            } else {
                // Accepted by both: it must be the very same values.
                bothAccepted += 1
                #expect(ours.items.map(hiredisView) == theirs.values, "iteration \(iteration)")
            }
        }
        #expect(bothAccepted > 100)
        #expect(bothRejected + onlyWeRejected > 1000)
        print("hiredis differential (malformed): both accepted \(bothAccepted), both rejected \(bothRejected), only RESP rejected \(onlyWeRejected), RESP3/depth unsupported by hiredis \(unsupportedByHiredis)")
    }

    @Test func hiredisAgreesOnHandWrittenEdgeCases() {
        let cases = [
            "*0\r\n", "*-1\r\n", "$0\r\n\r\n", "$-1\r\n", ":-9223372036854775807\r\n",
            "+a\rb\r\n", "*2\r\n*1\r\n:1\r\n*0\r\n", "-ERR x\r\n",
            "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n",
        ]
        for text in cases {
            let ours = feedValues(bytes(text))
            let theirs = hiredisDecode(bytes(text))
            #expect(ours.error == nil && theirs.error == nil, "\(text.debugDescription)")
            #expect(ours.items.map(hiredisView) == theirs.values, "\(text.debugDescription)")
        }
    }

    @Test func hiredisAndWeRejectTheSameBadHeaders() {
        let cases = [
            ":+5\r\n", ":-0\r\n", ":12a\r\n", ":\r\n", ":99999999999999999999\r\n", "$1x\r\n", "$\r\n",
            "$-2\r\n", "*-2\r\n", "*01\r\n", "?x\r\n", "*1\r\n@\r\n",
        ]
        for text in cases {
            let ours = feedValues(bytes(text))
            let theirs = hiredisDecode(bytes(text))
            #expect(ours.error != nil, "\(text.debugDescription)")
            #expect(theirs.error != nil, "\(text.debugDescription)")
        }
    }
}
