import Foundation

/// Context-length labels such as `4k` or `128k`; `k` means 1024 tokens.
public enum LengthBucket {
    /// Token count a label stands for (`"4k"` → 4096, `"1500"` → 1500), or nil when it is not a length.
    public static func tokens(_ label: String) -> Int? {
        let text = label.trimmingCharacters(in: .whitespaces).lowercased()
        if text.hasSuffix("k"), let value = Double(text.dropLast()), value > 0 {
            return Int((value * 1024).rounded())
        }
        if let value = Int(text), value > 0 { return value }
        return nil
    }

    /// The label for a token count: `4096` → `"4k"`, `1500` → `"1500"`.
    public static func label(tokens: Int) -> String {
        tokens % 1024 == 0 ? "\(tokens / 1024)k" : "\(tokens)"
    }

    /// Sorts labels by the length they stand for; labels that are not lengths go last, alphabetically.
    public static func ordered(_ labels: some Sequence<String>) -> [String] {
        Array(Set(labels)).sorted { lhs, rhs in
            switch (tokens(lhs), tokens(rhs)) {
            case let (l?, r?): return l == r ? lhs < rhs : l < r
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return lhs < rhs
            }
        }
    }
}
