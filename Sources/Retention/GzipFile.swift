import CZlib
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why a compressed file could not be written or read back; names the file.
public struct GzipError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ path: String, _ what: String) { description = "\(path): \(what)" }
}

/// A gzip file written through zlib, synced to disk when closed: an export is never recorded
/// (and its rows never deleted) before its bytes are durable.
final class GzipWriter {
    let path: String
    private let descriptor: Int32
    private var file: gzFile?

    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw GzipError(path, "cannot create: \(String(cString: strerror(errno)))") }
        // zlib closes the descriptor it is given; it gets a duplicate so that ours can be synced.
        guard let file = gzdopen(dup(descriptor), "wb6") else {
            close(descriptor)
            throw GzipError(path, "cannot start compressing")
        }
        self.file = file
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let file, bytes.count > 0 else { return }
        guard gzwrite(file, bytes.baseAddress, UInt32(bytes.count)) == Int32(bytes.count) else {
            throw GzipError(path, "write failed")
        }
    }

    /// Finishes the stream and syncs the file.
    func finish() throws {
        guard let file else { return }
        self.file = nil
        defer { close(descriptor) }
        guard gzclose(file) == Z_OK else { throw GzipError(path, "cannot finish the compressed stream") }
        guard fsync(descriptor) == 0 else { throw GzipError(path, "fsync failed: \(String(cString: strerror(errno)))") }
    }

    deinit {
        if let file { gzclose(file) }
        if file != nil { close(descriptor) }
    }
}

/// Reads a gzip file back in chunks (the verification of an export).
enum GzipReader {
    static func read(path: String, _ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let file = gzopen(path, "rb") else { throw GzipError(path, "cannot open") }
        defer { gzclose(file) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
            guard count >= 0 else { throw GzipError(path, "corrupt compressed data") }
            if count == 0 { return }
            try buffer.withUnsafeBytes { try consume(UnsafeRawBufferPointer(rebasing: $0.prefix(Int(count)))) }
        }
    }
}
