import Foundation
import Synchronization

/// Progress on stderr: a redrawn bar with ETA on a terminal, plain lines (every few seconds) otherwise so
/// CI logs stay readable.
public final class ProgressReporter: Sendable {
    struct State {
        var done = 0
        var failed = 0
        var lastPrint = Date.distantPast
    }

    private let total: Int
    private let label: String
    private let isTerminal: Bool
    private let start = Date()
    private let state = Mutex(State())

    public init(total: Int, label: String, isTerminal: Bool = isatty(STDERR_FILENO) == 1) {
        self.total = total
        self.label = label
        self.isTerminal = isTerminal
    }

    public func advance(failed: Bool) {
        let line: String? = state.withLock { state in
            state.done += 1
            if failed { state.failed += 1 }
            let now = Date()
            let finished = state.done == total
            let interval = isTerminal ? 0.1 : 5.0
            guard finished || now.timeIntervalSince(state.lastPrint) >= interval else { return nil }
            state.lastPrint = now
            return Self.format(
                label: label, done: state.done, total: total, failed: state.failed,
                elapsed: now.timeIntervalSince(start), bar: isTerminal)
        }
        guard let line else { return }
        let text = isTerminal ? "\r\u{1B}[K" + line + (state.withLock { $0.done } == total ? "\n" : "") : line + "\n"
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// "label [#####.....] 50/100 (2 failed) 1m05s elapsed, ETA 1m05s" — pure for testing.
    public static func format(label: String, done: Int, total: Int, failed: Int, elapsed: Double, bar: Bool) -> String {
        var parts: [String] = [label]
        if bar {
            let width = 24
            let filled = total == 0 ? width : width * done / total
            parts.append(
                "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]")
        }
        parts.append("\(done)/\(total)")
        if failed > 0 { parts.append("(\(failed) failed)") }
        parts.append("\(duration(elapsed)) elapsed")
        if done > 0, done < total {
            parts.append("ETA \(duration(elapsed / Double(done) * Double(total - done)))")
        }
        return parts.joined(separator: " ")
    }

    public static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        if whole >= 3600 { return "\(whole / 3600)h\(String(format: "%02d", whole % 3600 / 60))m" }
        if whole >= 60 { return "\(whole / 60)m\(String(format: "%02d", whole % 60))s" }
        return "\(whole)s"
    }
}
