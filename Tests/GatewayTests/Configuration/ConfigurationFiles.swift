import Foundation

/// Throwaway files for configuration tests, and the shipped `config/gateway.yaml`.
enum ConfigurationFiles {
    /// Writes `text` to a new temporary file and returns its path (remove it with `remove`).
    static func write(_ text: String, suffix: String = ".yaml") throws -> String {
        let path = NSTemporaryDirectory() + "qs-config-\(UUID().uuidString)\(suffix)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// config/gateway.yaml of this checkout.
    static var shipped: String {
        RepoPaths.root.appendingPathComponent("config/gateway.yaml").path
    }
}
