import Foundation

/// One versioned schema change: a file `NNN_name.sql` of `config/schema/`.
public struct Migration: Sendable, Equatable {
    public let version: Int
    public let fileName: String
    public let sql: String

    /// A stable fingerprint of the file's text (FNV-1a, 64 bits), recorded when applied,
    /// so that an edited, already-applied migration is noticed instead of ignored.
    public var checksum: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in sql.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    public init(version: Int, fileName: String, sql: String) {
        self.version = version
        self.fileName = fileName
        self.sql = sql
    }

    /// Reads every `NNN_name.sql` of `directory`, in version order.
    public static func load(from directory: String) throws -> [Migration] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw MigrationError.directoryUnreadable(path: directory, reason: "\(error.localizedDescription)")
        }
        var migrations: [Migration] = []
        for name in names where name.hasSuffix(".sql") {
            let digits = name.prefix(while: \.isNumber)
            guard !digits.isEmpty, name.dropFirst(digits.count).hasPrefix("_"), let version = Int(digits) else {
                throw MigrationError.badFileName(name)
            }
            let path = (directory as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path),
                  let sql = String(data: data, encoding: .utf8) else {
                throw MigrationError.directoryUnreadable(path: path, reason: "not readable as UTF-8 text")
            }
            migrations.append(Migration(version: version, fileName: name, sql: sql))
        }
        migrations.sort { $0.version < $1.version }
        for (earlier, later) in zip(migrations, migrations.dropFirst()) where earlier.version == later.version {
            throw MigrationError.duplicateVersion(earlier.version, earlier.fileName, later.fileName)
        }
        guard !migrations.isEmpty else { throw MigrationError.noMigrations(path: directory) }
        return migrations
    }

    /// Finds `config/schema`: the given folder, `$QUICKSELL_SCHEMA_DIR`, or the nearest
    /// `config/schema` above the working directory or above the executable.
    public static func locateDirectory(explicit: String? = nil) throws -> String {
        if let explicit { return explicit }
        if let fromEnvironment = ProcessInfo.processInfo.environment["QUICKSELL_SCHEMA_DIR"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        let starts = [
            FileManager.default.currentDirectoryPath,
            (CommandLine.arguments.first.map { ($0 as NSString).deletingLastPathComponent }) ?? "",
        ]
        for start in starts where !start.isEmpty {
            var folder = URL(fileURLWithPath: start).standardizedFileURL
            while true {
                let candidate = folder.appendingPathComponent("config/schema").path
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), isDirectory.boolValue {
                    return candidate
                }
                let parent = folder.deletingLastPathComponent()
                if parent.path == folder.path { break }
                folder = parent
            }
        }
        throw MigrationError.directoryNotFound
    }
}

/// Why migrations could not be applied; each names the file or folder at fault.
public enum MigrationError: Error, CustomStringConvertible, Sendable {
    case directoryNotFound
    case directoryUnreadable(path: String, reason: String)
    case noMigrations(path: String)
    case badFileName(String)
    case duplicateVersion(Int, String, String)
    case changedAfterApply(fileName: String)
    case failed(fileName: String, error: PostgresError)

    public var description: String {
        switch self {
        case .directoryNotFound:
            return "cannot find the migrations folder config/schema; pass --schema-dir or set QUICKSELL_SCHEMA_DIR"
        case let .directoryUnreadable(path, reason):
            return "cannot read migrations at \(path): \(reason)"
        case let .noMigrations(path):
            return "no migration files (NNN_name.sql) in \(path)"
        case let .badFileName(name):
            return "migration file '\(name)' is not named NNN_name.sql"
        case let .duplicateVersion(version, first, second):
            return "migrations \(first) and \(second) share version \(version)"
        case let .changedAfterApply(fileName):
            return "migration \(fileName) was changed after it was applied; add a new migration instead"
        case let .failed(fileName, error):
            return "migration \(fileName) failed and was rolled back: \(error)"
        }
    }
}
