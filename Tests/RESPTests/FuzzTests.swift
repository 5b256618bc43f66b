import Foundation
import TestSupport
import NIOCore
import RESP
import Testing

/// Seeded random-mutation fuzzing of both decoders: no crash, only values, "need more data" or
/// `RESPProtocolError`, bounded state, and the same outcome however the input was chunked.
@Suite struct FuzzTests {
    static let limits = RESPLimits(maxBulkLength: 200, maxAggregateElements: 16, maxNestingDepth: 6, maxInlineLength: 100)
    /// Most bytes a decoder may hold back while saying "need more data": one header line
    /// plus one bulk payload and its CRLF.
    static let maxHeldBytes = 1 + limits.maxInlineLength + 2 + limits.maxBulkLength + 2

    static func seedInput(_ rng: inout SeededRandom) -> [UInt8] {
        switch rng.int(0...5) {
        case 0, 1:
            var generator = ValueGenerator(rng: rng, resp3: true, maxDepth: 8)
            let wire = (0..<generator.rng.int(1...4)).flatMap { _ in encode(generator.value(), .resp3) }
            rng = generator.rng
            return wire
        case 2, 3:
            var wire: [UInt8] = []
            for _ in 0..<rng.int(1...4) {
                if rng.chance(30) {
                    wire += bytes(["PING\r\n", "ECHO \"a\\x41\\n\" 'b\\'c'\r\n", "GET k\n", "\r\n", "SET \"x y\" z\r\n"][rng.int(0...4)])
                } else {
                    wire += multibulk((0..<rng.int(1...5)).map { _ in (0..<rng.int(0...30)).map { _ in rng.byte() } })
                }
            }
            return wire
        case 4:
            let alphabet = Array("*$:+-_#,(!=%~|>0123456789\r\n \"'\\xabt".utf8)
            return (0..<rng.int(0...120)).map { _ in alphabet[rng.int(0...(alphabet.count - 1))] }
        default:
            return (0..<rng.int(0...120)).map { _ in rng.byte() }
        }
    }

    static func chunked<T>(
        _ input: [UInt8], _ rng: inout SeededRandom, initial: T,
        step: (inout T, inout ByteBuffer) throws(RESPProtocolError) -> Bool,
        check: (T, ByteBuffer) -> Void
    ) -> (T, RESPProtocolError?) {
        var state = initial
        var buffer = ByteBuffer()
        var position = 0
        while position < input.count {
            let n = min(input.count - position, rng.int(1...40))
            buffer.writeBytes(input[position..<(position + n)])
            position += n
            do {
                while try step(&state, &buffer) {}
            } catch {
                return (state, error)
            }
            check(state, buffer)
            buffer.discardReadBytes()
        }
        return (state, nil)
    }

    /// How long a run may be: `make test` runs a bounded one (200,000 inputs or 20 s);
    /// `make fuzz` sets `QUICKSELL_FUZZ_INPUTS` (1,000,000) and `QUICKSELL_FUZZ_SECONDS`,
    /// and `QUICKSELL_FUZZ_SEED` picks other inputs.
    struct Budget {
        var inputs = 200_000
        var seconds = 20
        var seed: UInt64 = 0xF022_0001

        static var current: Budget {
            let environment = ProcessInfo.processInfo.environment
            var budget = Budget()
            if let inputs = environment["QUICKSELL_FUZZ_INPUTS"].flatMap({ Int($0) }) {
                budget.inputs = inputs
                budget.seconds = 3_600
            }
            if let seconds = environment["QUICKSELL_FUZZ_SECONDS"].flatMap({ Int($0) }) { budget.seconds = seconds }
            if let seed = environment["QUICKSELL_FUZZ_SEED"].flatMap({ UInt64($0) }) { budget.seed = seed }
            return budget
        }
    }

    @Test func mutatedAndGarbageInputsNeverCrashAndStayBounded() {
        let budget = Budget.current
        var rng = SeededRandom(seed: budget.seed)
        let clock = ContinuousClock()
        let started = clock.now
        let deadline = clock.now.advanced(by: .seconds(budget.seconds))
        var inputs = 0, valueErrors = 0, requestErrors = 0, values = 0, requests = 0
        while inputs < budget.inputs && clock.now < deadline {
            inputs += 1
            var input = Self.seedInput(&rng)
            for _ in 0..<rng.int(0...4) { HiredisDifferentialTests.mutate(&input, &rng) }

            // Value decoder, random chunks.
            typealias ValueState = (decoder: RESPValueDecoder, items: [RESPValue])
            let (valueState, valueError) = Self.chunked(
                input, &rng, initial: ValueState(RESPValueDecoder(limits: Self.limits), []),
                step: { (state: inout ValueState, buffer: inout ByteBuffer) throws(RESPProtocolError) -> Bool in
                    guard let value = try state.decoder.decode(buffer: &buffer) else { return false }
                    state.items.append(value)
                    return true
                },
                check: { state, buffer in
                    #expect(state.decoder.openAggregates <= Self.limits.maxNestingDepth)
                    #expect(buffer.readableBytes <= Self.maxHeldBytes)
                }
            )
            let wholeValues = feedValues(input, limits: Self.limits)
            #expect(wholeValues.items == valueState.items, "input \(input)")
            #expect(wholeValues.error == valueError, "input \(input)")
            values += valueState.items.count
            if valueError != nil { valueErrors += 1 }

            // Request decoder, random chunks.
            typealias RequestState = (decoder: RESPRequestDecoder, items: [RESPRequest])
            let (requestState, requestError) = Self.chunked(
                input, &rng, initial: RequestState(RESPRequestDecoder(limits: Self.limits), []),
                step: { (state: inout RequestState, buffer: inout ByteBuffer) throws(RESPProtocolError) -> Bool in
                    guard let request = try state.decoder.decode(buffer: &buffer) else { return false }
                    #expect(!request.arguments.isEmpty)
                    state.items.append(request)
                    return true
                },
                check: { state, buffer in
                    #expect(state.decoder.pendingArguments <= Self.limits.maxAggregateElements)
                    #expect(buffer.readableBytes <= Self.maxHeldBytes)
                }
            )
            let wholeRequests = feedRequests(input, limits: Self.limits)
            #expect(wholeRequests.items == requestState.items, "input \(input)")
            #expect(wholeRequests.error == requestError, "input \(input)")
            requests += requestState.items.count
            if requestError != nil { requestErrors += 1 }
        }
        #expect(inputs >= min(10_000, budget.inputs))
        #expect(valueErrors > 0 && requestErrors > 0 && values > 0 && requests > 0)
        print("fuzz: seed \(budget.seed), \(inputs) of \(budget.inputs) inputs in \(clock.now - started), \(values) values, \(valueErrors) value errors, \(requests) requests, \(requestErrors) request errors")
    }
}
