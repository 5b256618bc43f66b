import NIOCore

/// One client command: its name and arguments, exactly as sent.
///
/// For multibulk requests every argument is a slice of the receive buffer (no copy); inline
/// arguments are slices too unless quoting or escapes changed their bytes.
public struct RESPRequest: Sendable, Equatable {
    /// The command name first, then its arguments; never empty.
    public var arguments: [ByteBuffer]

    public init(arguments: [ByteBuffer]) {
        self.arguments = arguments
    }

    /// Convenience for tests and tools: a request from UTF-8 strings.
    public init(_ arguments: String...) {
        self.arguments = arguments.map { ByteBuffer(string: $0) }
    }
}
