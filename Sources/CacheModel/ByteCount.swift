/// Sizes for people: the slot warning and `quicksell-cache slots` show WAL as `1.5 GiB`,
/// not as a twelve-digit number.
public enum ByteCount {
    /// `512 B`, `24.0 KiB`, `1.5 GiB` (binary units, one decimal above bytes).
    public static func readable(_ bytes: Int64) -> String {
        let units = ["KiB", "MiB", "GiB", "TiB", "PiB"]
        guard bytes >= 1024 || bytes <= -1024 else { return "\(bytes) B" }
        var value = Double(bytes) / 1024
        var unit = 0
        while abs(value) >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let tenths = Int64((value * 10).rounded())
        let sign = tenths < 0 ? "-" : ""
        return "\(sign)\(abs(tenths) / 10).\(abs(tenths) % 10) \(units[unit])"
    }
}
