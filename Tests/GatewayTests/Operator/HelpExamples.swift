import Foundation

/// The examples printed by the executables' `--help`, read from the help output itself (what a
/// user copies), so that a test can run each of them.
enum HelpExamples {
    /// One help screen's examples, in order. `export` lines carry over to the examples after them.
    struct Screen {
        var command: String
        var examples: [String]
        /// Lines under "Examples:" that the help formatter wrapped (they lost their indentation).
        var wrapped: [String]
        /// Lines of the description that a hard line break split from the line before, seen on a
        /// screen wide enough for any paragraph: the formatter wraps them again, mid-sentence.
        var hardBreaks: [String] = []
    }

    /// The help screens of `executable`: its own and each subcommand's (`SUBCOMMANDS:`), and
    /// theirs in turn (`retention run`).
    static func screens(_ executable: String) async throws -> [Screen] {
        let name = URL(fileURLWithPath: executable).lastPathComponent
        var screens: [Screen] = []
        var pending: [[String]] = [[]]
        while !pending.isEmpty {
            let arguments = pending.removeFirst()
            let text = try await help(executable, arguments)
            var screen = parse(text, command: ([name] + arguments).joined(separator: " "))
            screen.hardBreaks = hardBreaks(try await help(executable, arguments, columns: 1_000))
            screens.append(screen)
            pending += subcommands(text).map { arguments + [$0] }
        }
        return screens
    }

    private static func help(_ executable: String, _ subcommand: [String], columns: Int = 80) async throws -> String {
        var environment = ProcessInfo.processInfo.environment
        environment["COLUMNS"] = String(columns)
        let result = try await runProcess(executable, subcommand + ["--help"], environment: environment)
        guard result.status == 0 else { throw TestFailure("\(executable) \(subcommand) --help failed: \(result.stderr)") }
        return result.stdout
    }

    /// The names listed under `SUBCOMMANDS:` (without `help`).
    static func subcommands(_ help: String) -> [String] {
        guard let section = help.range(of: "\nSUBCOMMANDS:\n") else { return [] }
        var names: [String] = []
        for line in help[section.upperBound...].split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty || !line.hasPrefix(" ") { break }
            if let match = line.firstMatch(of: /^  ([a-z][a-z-]*)(\s|$)/), match.1 != "help" { names.append(String(match.1)) }
        }
        return names
    }

    /// Description lines (between the overview and USAGE, not indented) that follow another
    /// such line that does not end a heading with `:`.
    static func hardBreaks(_ help: String) -> [String] {
        let description = help.components(separatedBy: "\nUSAGE:")[0].split(separator: "\n", omittingEmptySubsequences: false)
        var breaks: [String] = []
        for (previous, line) in zip(description, description.dropFirst())
        where !line.isEmpty && !line.hasPrefix(" ") && !previous.isEmpty && !previous.hasPrefix(" ") && !previous.hasSuffix(":") {
            breaks.append(String(line))
        }
        return breaks
    }

    /// The lines after `Example:` or `Examples:`, indented, up to a blank line; `\` continues a
    /// command on the next line and `#` starts a comment line.
    static func parse(_ help: String, command: String) -> Screen {
        var screen = Screen(command: command, examples: [], wrapped: [])
        var inExamples = false
        var pending = ""
        for line in help.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line == "Example:" || line == "Examples:" {
                inExamples = true
                continue
            }
            guard inExamples else { continue }
            if line.isEmpty { break }
            guard line.hasPrefix("  ") else {
                screen.wrapped.append(line)
                continue
            }
            let text = line.trimmingCharacters(in: .whitespaces)
            if pending.isEmpty && text.hasPrefix("#") { continue }
            if text.hasSuffix("\\") {
                pending += text.dropLast()
                continue
            }
            screen.examples.append(pending + text)
            pending = ""
        }
        return screen
    }

    /// Runs `command` with bash in `directory`, with `environment`.
    static func run(_ command: String, in directory: String, environment: [String: String],
                    timeout: Duration = .seconds(90)) async throws -> SubprocessResult {
        try await runProcess("/bin/bash", ["-c", "cd '\(directory)' && \(command)"], timeout: timeout, environment: environment)
    }

    /// The test's environment with the built executables first on PATH and no
    /// `QUICKSELL_GATEWAY_*` variables.
    static func environment(_ extra: [String: String]) throws -> [String: String] {
        let folder = URL(fileURLWithPath: try RepoPaths.builtExecutable("quicksell-cache")).deletingLastPathComponent().path
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("QUICKSELL_GATEWAY_") }
        environment["PATH"] = folder + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        environment.merge(extra) { $1 }
        return environment
    }
}
