import NIOCore
import RESP
import Testing

/// The undecoded tail carried between reads by the connection handlers.
struct ReceiveCumulationTests {
    @Test func aRequestSplitAcrossReadsIsDecodedOnceComplete() throws {
        var cumulation = ReceiveCumulation()
        var decoder = RESPRequestDecoder()
        let whole = "*2\r\n$3\r\nGET\r\n$6\r\nuser:1\r\n*1\r\n$4\r\nPING\r\n"
        var decoded: [[String]] = []
        for piece in [String(whole.prefix(9)), String(whole.dropFirst(9).prefix(12)), String(whole.dropFirst(21))] {
            var buffer = cumulation.merged(with: ByteBuffer(string: piece))
            while let request = try decoder.decode(buffer: &buffer) {
                decoded.append(request.arguments.map { String(buffer: $0) })
            }
            cumulation.keep(buffer)
        }
        #expect(decoded == [["GET", "user:1"], ["PING"]])
        #expect(cumulation.pendingBytes == 0)
    }

    @Test func onlyTheUnreadTailIsKeptAndAnIdleConnectionKeepsNothing() {
        var cumulation = ReceiveCumulation()
        var buffer = cumulation.merged(with: ByteBuffer(string: "abcdef"))
        buffer.moveReaderIndex(forwardBy: 4)
        cumulation.keep(buffer)
        #expect(cumulation.pendingBytes == 2)
        let next = cumulation.merged(with: ByteBuffer(string: "gh"))
        #expect(String(buffer: next) == "efgh")
        #expect(cumulation.pendingBytes == 0)
        var consumed = next
        consumed.moveReaderIndex(forwardBy: 4)
        cumulation.keep(consumed)
        #expect(cumulation.pendingBytes == 0)
    }
}
