/// A configuration value that cannot be used; names the key, where it can be set, what
/// was found and what is expected, so that an operator can fix it without the source.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let key: String
    public let expected: String
    public let found: String?

    public init(key: String, expected: String, found: String?) {
        self.key = key
        self.expected = expected
        self.found = found
    }

    public var description: String {
        let got = found.map { "got '\($0)'" } ?? "got nothing"
        return "configuration key '\(key)' (environment \(ConfigurationKeys.environmentName(key))): "
            + "expected \(expected), \(got)"
    }
}

/// The configuration file could not be read or parsed.
public struct ConfigurationFileError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let reason: String

    public var description: String { "cannot read configuration file \(path): \(reason)" }
}
