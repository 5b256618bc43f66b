import Foundation

/// What the CLI needs to know about its terminal: whether to ask, draw bars, clear screens.
enum Terminal {
    static var inputIsTerminal: Bool { isatty(STDIN_FILENO) == 1 }
    static var outputIsTerminal: Bool { isatty(STDOUT_FILENO) == 1 }
    static var errorIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    static func writeError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// `1.2 s`, `340 ms`.
    static func duration(seconds: Double) -> String {
        seconds < 1 ? "\(Int((seconds * 1000).rounded())) ms" : String(format: "%.1f s", seconds)
    }
}

/// A progress bar on stderr, drawn only when stderr is a terminal.
struct ProgressBar {
    let total: Int
    let label: String
    private let enabled = Terminal.errorIsTerminal
    private let width = 30

    init(total: Int, label: String) {
        self.total = total
        self.label = label
    }

    func update(_ done: Int) {
        guard enabled, total > 0 else { return }
        let filled = min(width, done * width / total)
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        Terminal.writeError("\r\(label) [\(bar)] \(done)/\(total)")
    }

    func finish() {
        guard enabled else { return }
        Terminal.writeError("\n")
    }
}
