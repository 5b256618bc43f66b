/// Counts the records of CSV text as PostgreSQL's `COPY … (FORMAT csv)` writes it: a line end
/// inside a quoted field (a newline in `user_agent` or in JSON) does not end a record.
struct CSVRecordCounter {
    private(set) var records = 0
    private var quoted = false
    private var midRecord = false

    mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""):
                // A doubled quote inside a field toggles twice: no net change.
                quoted.toggle()
                midRecord = true
            case UInt8(ascii: "\n") where !quoted:
                records += 1
                midRecord = false
            default:
                midRecord = true
            }
        }
    }

    /// Records, counting a last one without a line end.
    var total: Int { records + (midRecord ? 1 : 0) }
}
