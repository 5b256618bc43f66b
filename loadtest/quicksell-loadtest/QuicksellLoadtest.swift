import ArgumentParser
import Foundation

/// The load-test tool: seeds sample data and drives load (`run`).
///
/// `main()` is our own so that every failure, argument errors included, is one line
/// `quicksell-loadtest: error: …` and a non-zero exit, as scripts and `make` expect.
@main
struct QuicksellLoadtest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quicksell-loadtest",
        abstract: "Seed QuickSell sample data and drive load against the cache gateway.",
        subcommands: [SeedCommand.self, RunCommand.self]
    )

    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }
            let text = (error as? CommandFailure)?.message ?? message(for: error)
            if !text.isEmpty {
                let oneLine = text.split(whereSeparator: \.isNewline)
                    .map { $0.trimmingCharacters(in: .whitespaces) }
                    .filter { !$0.isEmpty }
                    .joined(separator: " ")
                FileHandle.standardError.write(Data("quicksell-loadtest: error: \(oneLine)\n".utf8))
            }
            Foundation.exit(code.rawValue == 0 ? 1 : code.rawValue)
        }
    }
}

/// A failure while running a command, already phrased for the one-line error.
struct CommandFailure: Error {
    let message: String
}
