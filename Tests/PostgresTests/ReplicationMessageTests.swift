import Postgres
import Testing

/// The replication stream's messages, built byte by byte as PostgreSQL's protocol pages lay
/// them out, decoded; and the status update we send, encoded.
@Suite struct ReplicationMessageTests {
    private func bigEndian(_ value: UInt64) -> [UInt8] { (0..<8).reversed().map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) } }
    private func bigEndian(_ value: UInt32) -> [UInt8] { (0..<4).reversed().map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) } }
    private func envelope(_ payload: [UInt8], start: UInt64 = 0x16_B374_D848) -> [UInt8] {
        [UInt8(ascii: "w")] + bigEndian(start) + bigEndian(UInt64(0x17_0000_0000)) + bigEndian(UInt64(42)) + payload
    }

    @Test func beginMessageCommitDecode() throws {
        let begin = [UInt8(ascii: "B")] + bigEndian(UInt64(0x1_0000_0100)) + bigEndian(UInt64(786_000_000_123_456))
            + bigEndian(UInt32(751))
        #expect(try ReplicationMessage.decode(envelope(begin))
            == .data(start: 0x16_B374_D848, payload: .begin(finalLSN: 0x1_0000_0100, commitTime: 786_000_000_123_456, xid: 751)))

        let content = Array("751|user:1,user_stats:1".utf8)
        let message = [UInt8(ascii: "M"), 1] + bigEndian(UInt64(0x1_0000_0080)) + Array("quicksell_invalidation".utf8) + [0]
            + bigEndian(UInt32(content.count)) + content
        #expect(try ReplicationMessage.decode(envelope(message)) == .data(start: 0x16_B374_D848, payload: .message(
            transactional: true, lsn: 0x1_0000_0080, prefix: "quicksell_invalidation", content: content)))

        let commit = [UInt8(ascii: "C"), 0] + bigEndian(UInt64(0x1_0000_0100)) + bigEndian(UInt64(0x1_0000_0130))
            + bigEndian(UInt64(786_000_000_123_456))
        #expect(try ReplicationMessage.decode(envelope(commit)) == .data(start: 0x16_B374_D848, payload: .commit(
            commitLSN: 0x1_0000_0100, endLSN: 0x1_0000_0130, commitTime: 786_000_000_123_456)))
    }

    @Test func otherPgOutputRecordsAreRecognisedByTheirTag() throws {
        #expect(try ReplicationMessage.decode(envelope([UInt8(ascii: "R"), 0, 0, 0, 1])) == .data(start: 0x16_B374_D848,
                                                                                                   payload: .other(UInt8(ascii: "R"))))
    }

    @Test func keepaliveSaysWhetherAReplyIsWanted() throws {
        let keepalive = [UInt8(ascii: "k")] + bigEndian(UInt64(0x2_0000_0010)) + bigEndian(UInt64(7))
        #expect(try ReplicationMessage.decode(keepalive + [1]) == .keepalive(walEnd: 0x2_0000_0010, replyRequested: true))
        #expect(try ReplicationMessage.decode(keepalive + [0]) == .keepalive(walEnd: 0x2_0000_0010, replyRequested: false))
    }

    @Test func truncatedAndUnknownMessagesAreErrorsNotCrashes() throws {
        let complete = [UInt8(ascii: "k")] + bigEndian(UInt64(1)) + bigEndian(UInt64(2)) + [0]
        for length in 0..<complete.count {
            #expect(throws: ReplicationDecodingError.self) { try ReplicationMessage.decode(Array(complete.prefix(length))) }
        }
        #expect(throws: ReplicationDecodingError.unknownMessage(UInt8(ascii: "x"))) {
            try ReplicationMessage.decode([UInt8(ascii: "x"), 1, 2])
        }
        // A message record whose prefix never ends, and one whose content is shorter than its length.
        let unterminated = [UInt8(ascii: "M"), 1] + bigEndian(UInt64(1)) + Array("quicksell".utf8)
        #expect(throws: ReplicationDecodingError.unterminatedString) { try ReplicationMessage.decode(envelope(unterminated)) }
        let short = [UInt8(ascii: "M"), 1] + bigEndian(UInt64(1)) + [UInt8(ascii: "p"), 0] + bigEndian(UInt32(10)) + [1, 2]
        #expect(throws: ReplicationDecodingError.truncated(needed: 10, available: 2)) {
            try ReplicationMessage.decode(envelope(short))
        }
    }

    @Test func statusUpdateConfirmsThePositionThreeTimesThenTheClock() {
        let bytes = ReplicationMessage.statusUpdate(confirming: 0x16_B374_D848, clock: 0x0102_0304_0506_0708, replyRequested: true)
        #expect(bytes.count == 34)
        #expect(bytes[0] == UInt8(ascii: "r"))
        for field in 0..<3 { #expect(Array(bytes[(1 + field * 8)..<(9 + field * 8)]) == bigEndian(UInt64(0x16_B374_D848))) }
        #expect(Array(bytes[25..<33]) == bigEndian(UInt64(0x0102_0304_0506_0708)))
        #expect(bytes[33] == 1)
    }
}
