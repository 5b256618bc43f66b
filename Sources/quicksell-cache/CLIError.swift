import Foundation

/// A one-line reason the command failed; `main` prints it and exits non-zero.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs `body`, turning a `CLIError` (or any error) into `quicksell-cache: error: …` and exit 1.
func runReportingErrors(_ body: () throws -> Void) {
    do {
        try body()
    } catch {
        fail("\(error)")
    }
}
