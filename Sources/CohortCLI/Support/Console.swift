import Foundation

/// Terminal output: progress on a terminal, plain lines otherwise; errors to standard error.
enum Console {
    static let isTerminal: Bool = isatty(STDOUT_FILENO) != 0 && ProcessInfo.processInfo.environment["TERM"] != "dumb"

    static func line(_ s: String) {
        FileHandle.standardOutput.write(Data((s + "\n").utf8))
    }

    static func error(_ s: String) {
        FileHandle.standardError.write(Data(("error: " + s + "\n").utf8))
    }

    static func note(_ s: String) {
        FileHandle.standardError.write(Data((s + "\n").utf8))
    }

    /// Rewrites the current terminal line (terminal only).
    static func progress(_ s: String) {
        guard isTerminal else { return }
        FileHandle.standardOutput.write(Data(("\r\u{1B}[2K" + s).utf8))
    }

    static func endProgress() {
        guard isTerminal else { return }
        FileHandle.standardOutput.write(Data("\r\u{1B}[2K".utf8))
    }

    static func bar(_ fraction: Double, width: Int = 24) -> String {
        let filled = Int((min(max(fraction, 0), 1) * Double(width)).rounded())
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
    }

    static func f(_ v: Double?, _ digits: Int = 3) -> String {
        guard let v, v.isFinite else { return "-" }
        return String(format: "%.\(digits)f", v)
    }

    static func pad(_ s: String, _ n: Int, right: Bool = false) -> String {
        let c = s.count
        if c >= n { return s }
        return right ? String(repeating: " ", count: n - c) + s : s + String(repeating: " ", count: n - c)
    }
}
