/// A peer sent bytes that are not valid RESP, or that break a `RESPLimits` bound.
///
/// `message` is Redis's own text (`Protocol error: ...`); Redis replies `-ERR <message>` (see
/// `errorReply`) and then closes the connection, and so should the gateway.
public struct RESPProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, for code that reacts differently to different failures.
    public enum Code: Sendable, Hashable {
        case invalidMultibulkLength
        case invalidBulkLength
        case unexpectedBulkPrefix
        case tooBigInlineRequest
        case tooBigMultibulkCountString
        case tooBigBulkCountString
        case unbalancedQuotes
        case missingCRLF
        case invalidTypeByte
        case invalidInteger
        case invalidDouble
        case invalidBoolean
        case invalidNull
        case invalidBigNumber
        case invalidVerbatimString
        case tooBigLine
        case tooDeepNesting
    }

    public var code: Code
    /// Redis-style text, e.g. `Protocol error: invalid bulk length`.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// The error reply Redis sends for it, without the leading `-`: `ERR Protocol error: ...`.
    public var errorReply: String { "ERR " + message }

    static let invalidMultibulkLength = RESPProtocolError(.invalidMultibulkLength, "Protocol error: invalid multibulk length")
    static let invalidBulkLength = RESPProtocolError(.invalidBulkLength, "Protocol error: invalid bulk length")
    static let tooBigInlineRequest = RESPProtocolError(.tooBigInlineRequest, "Protocol error: too big inline request")
    static let tooBigMultibulkCountString = RESPProtocolError(.tooBigMultibulkCountString, "Protocol error: too big mbulk count string")
    static let tooBigBulkCountString = RESPProtocolError(.tooBigBulkCountString, "Protocol error: too big bulk count string")
    static let unbalancedQuotes = RESPProtocolError(.unbalancedQuotes, "Protocol error: unbalanced quotes in request")
    static let missingCRLF = RESPProtocolError(.missingCRLF, "Protocol error: expected CRLF after bulk payload")
    static let invalidInteger = RESPProtocolError(.invalidInteger, "Protocol error: invalid integer")
    static let invalidDouble = RESPProtocolError(.invalidDouble, "Protocol error: invalid double")
    static let invalidBoolean = RESPProtocolError(.invalidBoolean, "Protocol error: invalid boolean")
    static let invalidNull = RESPProtocolError(.invalidNull, "Protocol error: invalid null")
    static let invalidBigNumber = RESPProtocolError(.invalidBigNumber, "Protocol error: invalid big number")
    static let invalidVerbatimString = RESPProtocolError(.invalidVerbatimString, "Protocol error: invalid verbatim string")
    static let tooBigLine = RESPProtocolError(.tooBigLine, "Protocol error: too big line")

    static func unexpectedBulkPrefix(_ byte: UInt8) -> RESPProtocolError {
        RESPProtocolError(.unexpectedBulkPrefix, "Protocol error: expected '$', got '\(Character(Unicode.Scalar(byte)))'")
    }

    static func invalidTypeByte(_ byte: UInt8) -> RESPProtocolError {
        RESPProtocolError(.invalidTypeByte, "Protocol error: invalid type byte '\(Character(Unicode.Scalar(byte)))'")
    }

    static func tooDeepNesting(_ limit: Int) -> RESPProtocolError {
        RESPProtocolError(.tooDeepNesting, "Protocol error: nesting deeper than \(limit) levels")
    }
}
