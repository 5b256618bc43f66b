/// Builds rows for `COPY … FROM STDIN` in PostgreSQL's text format and sends them in
/// large chunks: bulk loads without one round trip per row.
public struct CopyWriter {
    private var buffer: [UInt8] = []
    private var fieldsInRow = 0
    private let send: ([UInt8]) throws -> Void
    private let chunkSize: Int
    /// Rows finished so far.
    public private(set) var rowCount = 0

    init(chunkSize: Int = 1 << 20, send: @escaping ([UInt8]) throws -> Void) {
        self.send = send
        self.chunkSize = chunkSize
        buffer.reserveCapacity(chunkSize + 4096)
    }

    /// Appends one text field, escaped; `nil` is SQL NULL.
    public mutating func field(_ value: String?) {
        separate()
        guard let value else {
            buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "N")])
            return
        }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\t"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case UInt8(ascii: "\n"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            default: buffer.append(byte)
            }
        }
    }

    /// Appends an integer field.
    public mutating func field(_ value: Int) {
        separate()
        buffer.append(contentsOf: String(value).utf8)
    }

    /// Appends an optional integer field.
    public mutating func field(_ value: Int?) {
        guard let value else { return field(nil as String?) }
        field(value)
    }

    /// Appends a boolean field.
    public mutating func field(_ value: Bool) {
        separate()
        buffer.append(value ? UInt8(ascii: "t") : UInt8(ascii: "f"))
    }

    /// Ends the current row; sends a chunk when enough has gathered.
    public mutating func endRow() throws {
        buffer.append(UInt8(ascii: "\n"))
        fieldsInRow = 0
        rowCount += 1
        if buffer.count >= chunkSize { try flush() }
    }

    /// Appends a whole row of text fields.
    public mutating func row(_ fields: [String?]) throws {
        for value in fields { field(value) }
        try endRow()
    }

    mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        try send(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    private mutating func separate() {
        if fieldsInRow > 0 { buffer.append(UInt8(ascii: "\t")) }
        fieldsInRow += 1
    }
}
