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

    /// The migrations this file replaces, from its `-- squashes: NNN_name.sql CHECKSUM` lines:
    /// a database that applied every one of them already has this file's schema.
    public func squashed() throws -> [SquashedMigration] {
        let marker = "-- squashes:"
        return try sql.split(separator: "\n").filter { $0.hasPrefix(marker) }.map { line in
            let words = line.dropFirst(marker.count).split(separator: " ")
            guard words.count == 2, let version = Self.version(ofFileName: String(words[0])) else {
                throw MigrationError.badSquashLine(fileName: fileName, line: String(line))
            }
            return SquashedMigration(version: version, fileName: String(words[0]), checksum: String(words[1]))
        }
    }

    /// The version of a file named `NNN_name.sql`, or nil for any other name.
    static func version(ofFileName name: String) -> Int? {
        let digits = name.prefix(while: \.isNumber)
        guard !digits.isEmpty, name.dropFirst(digits.count).hasPrefix("_"), name.hasSuffix(".sql") else { return nil }
        return Int(digits)
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
            guard let version = version(ofFileName: name) else { throw MigrationError.badFileName(name) }
            let path = (directory as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path),
                  let sql = String(data: data, encoding: .utf8) else {
                throw MigrationError.directoryUnreadable(path: path, reason: "not readable as UTF-8 text")
            }
            let migration = Migration(version: version, fileName: name, sql: sql)
            _ = try migration.squashed()
            migrations.append(migration)
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

/// A migration that a later file squashed, as a database recorded it when it applied it.
public struct SquashedMigration: Sendable, Equatable {
    public let version: Int
    public let fileName: String
    public let checksum: String
}

/// Why migrations could not be applied; each names the file or folder at fault.
public enum MigrationError: Error, CustomStringConvertible, Sendable {
    case directoryNotFound
    case directoryUnreadable(path: String, reason: String)
    case noMigrations(path: String)
    case badFileName(String)
    case duplicateVersion(Int, String, String)
    case changedAfterApply(fileName: String)
    case badSquashLine(fileName: String, line: String)
    case partlySquashed(fileName: String, applied: [String], missing: [String])
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
        case let .badSquashLine(fileName, line):
            return "migration \(fileName): '\(line)' is not '-- squashes: NNN_name.sql CHECKSUM'"
        case let .partlySquashed(fileName, applied, missing):
            return "this database applied \(applied.joined(separator: ", ")) but not \(missing.joined(separator: ", ")), "
                + "which \(fileName) squashes: apply the missing files of config/schema/history/ first, or recreate it"
        case let .failed(fileName, error):
            return "migration \(fileName) failed and was rolled back: \(error)"
        }
    }
}
