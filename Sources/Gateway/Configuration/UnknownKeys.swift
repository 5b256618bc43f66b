import Foundation
import Yams

/// Refuses configuration the gateway would silently ignore: a key in the YAML file or a
/// `QUICKSELL_*` environment variable that is no configuration key (a misspelt `sever:` section
/// otherwise means the defaults), naming the nearest valid key.
enum UnknownKeys {
    /// The dotted keys of the file's leaves (`server: {port: 1}` → `server.port`), as
    /// swift-configuration flattens them; an empty section (`cache:` with nothing under it)
    /// counts as its own key.
    static func fileKeys(yaml text: String) throws -> [(key: String, isEmpty: Bool)] {
        guard let root = try Yams.Parser(yaml: text).singleRoot() else { return [] }
        guard let mapping = root.mapping else { return [] }  // swift-configuration reports this one
        var keys: [(key: String, isEmpty: Bool)] = []
        var pending: [([String], Node, Node)] = mapping.map { ([], $0.key, $0.value) }
        while !pending.isEmpty {
            let (prefix, keyNode, value) = pending.removeFirst()
            let path = prefix + [keyNode.string ?? "?"]
            if let children = value.mapping {
                pending.append(contentsOf: children.map { (path, $0.key, $0.value) })
            } else {
                let isNull = value.scalar.map { ["", "~", "null", "Null", "NULL"].contains($0.string) } ?? false
                keys.append((path.joined(separator: "."), isNull))
            }
        }
        return keys
    }

    /// Every problem at once, one line each: unknown keys of `file` (its path and text) and
    /// unknown `QUICKSELL_*` names in `environment`, against the keys the loader reads.
    static func problems(file: (path: String, text: String)?, environment: [String: String],
                         known: Set<String>) throws -> [String] {
        var lines: [String] = []
        if let file {
            for (key, isEmpty) in try fileKeys(yaml: file.text) where !known.contains(key) {
                if isEmpty && known.contains(where: { $0.hasPrefix(key + ".") }) { continue }  // an empty section
                let hint = ClosestName.closest(to: key, among: known.sorted()).map { "; did you mean '\($0)'?" }
                    ?? "; the valid keys are in config/gateway.yaml"
                lines.append("\(file.path): unknown key '\(key)'\(hint)")
            }
        }
        let variables = Dictionary(known.map { (ConfigurationKeys.environmentName($0), $0) }, uniquingKeysWith: min)
        for name in environment.keys.sorted() where name.hasPrefix("QUICKSELL_") {
            guard variables[name] == nil, !ConfigurationKeys.isOtherVariable(name) else { continue }
            let hint = ClosestName.closest(to: name, among: variables.keys.sorted())
                .map { "; did you mean \($0) ('\(variables[$0] ?? "")')?" }
                ?? " (neither a configuration key nor a variable of the scripts: README, Configuration)"
            lines.append("unknown environment variable \(name)\(hint)")
        }
        return lines
    }
}

/// Keys or `QUICKSELL_*` variables that configure nothing: each line names one and the nearest
/// valid key.
public struct UnknownConfigurationKeysError: Error, CustomStringConvertible, Sendable {
    public let problems: [String]

    public var description: String { problems.joined(separator: "\n") }
}
