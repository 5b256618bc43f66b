import NIOCore

/// What cluster routing needs of a command argument: its slot when it is a key, and its text
/// when it is a command name or a key count.
protocol ClusterRoutable {
    var hashSlot: Int { get }
    var text: String { get }
}

extension ByteBuffer: ClusterRoutable {
    var hashSlot: Int { HashSlot.of(self) }
    var text: String { String(buffer: self) }
}

extension String: ClusterRoutable {
    var hashSlot: Int { HashSlot.of(self) }
    var text: String { self }
}
