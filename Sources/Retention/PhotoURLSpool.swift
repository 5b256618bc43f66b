import Foundation
import Postgres

/// Writes the storage URLs that the photo policies queued in `retention_photo_urls` to a
/// text file (one URL a line) for the object-store cleanup the database cannot do, syncs it,
/// and only then deletes what it wrote from the queue: a crash in between writes a URL twice
/// (a second delete in the object store is harmless), never loses one.
struct PhotoURLSpool {
    let connection: PostgresConnection
    let directory: String
    let runStamp: String
    private static let chunk = 10_000

    /// The queued URLs; with `dryRun`, only their number.
    func drain(dryRun: Bool) throws -> (urls: Int, file: String?) {
        if dryRun {
            return (try connection.execute("SELECT count(*) FROM retention_photo_urls").scalarInt(), nil)
        }
        var written = 0
        var handle: FileHandle?
        let path = (directory as NSString).appendingPathComponent("removed-photo-urls-\(runStamp).txt")
        defer { try? handle?.close() }
        var lastID = "0"
        while true {
            let rows = try connection.query(
                "SELECT id, url FROM retention_photo_urls WHERE id > $1 ORDER BY id LIMIT \(Self.chunk)", [lastID]).rows
            guard let last = rows.last?[0] ?? nil else { break }
            if handle == nil {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
                handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
                try handle?.seekToEnd()
            }
            let text = rows.compactMap { $0[1] }.map { $0 + "\n" }.joined()
            try handle?.write(contentsOf: Data(text.utf8))
            try handle?.synchronize()
            try connection.query("DELETE FROM retention_photo_urls WHERE id <= $1", [last])
            written += rows.count
            lastID = last
        }
        return (written, handle == nil ? nil : path)
    }
}
