import Foundation

/// What a judge decided, in terms of the labels it was shown (label 0 is "A").
public enum Verdict: Sendable, Equatable {
    /// pair: the label judged better (0 = A, 1 = B), nil for a tie (`[[C]]`, `[[tie]]`, `[[A=B]]`).
    case pair(Int?)
    /// rank: groups of labels, best first; labels in one group are tied.
    case ranking([[Int]])
    /// critique: the score on the template's scale.
    case score(Double)
}

/// A verdict read from generated text, or why none could be read.
public struct VerdictReading: Sendable, Equatable {
    public var verdict: Verdict?
    /// The verdict as written (`[[B>A>C]]`), when the pattern matched, even if malformed.
    public var written: String?
    /// Why there is no verdict: none found, malformed. Nil when `verdict` is set.
    public var reason: String?
}

/// Reads verdicts. Pure. Rule for several verdicts in one text: the FIRST complete match wins; generation
/// stops right after it, so a judge's later second thoughts are never generated in the first place. (A
/// pattern quoted in the analysis, e.g. "answer [[A]] or [[B]]", would win too: the built-in instructions
/// ask for the verdict at the end, and a text with both markers is no worse read this way than any other.)
public struct VerdictParser {
    public let kind: JudgeTemplate.Kind
    /// Labels shown, in order ("A", "B", …).
    public let labelCount: Int
    public let scale: ClosedRange<Int>
    private let regex: NSRegularExpression?

    public init(template: JudgeTemplate, labelCount: Int) {
        kind = template.kind
        self.labelCount = labelCount
        scale = template.scaleMin...max(template.scaleMin, template.scaleMax)
        regex = try? NSRegularExpression(pattern: template.verdictPattern)
    }

    /// The end of the first match in `text` (in UTF-16 units), nil when there is none: generation stops there.
    public func firstMatchEnd(in text: String) -> Int? {
        guard let regex else { return nil }
        let range = NSRange(text.startIndex..., in: text)
        return regex.firstMatch(in: text, range: range).map { $0.range.location + $0.range.length }
    }

    public func read(_ text: String) -> VerdictReading {
        guard let regex else {
            return VerdictReading(verdict: nil, written: nil, reason: "the template has no verdict pattern")
        }
        let range = NSRange(text.startIndex..., in: text)
        guard let match = regex.firstMatch(in: text, range: range),
            let whole = Range(match.range, in: text)
        else {
            return VerdictReading(
                verdict: nil, written: nil, reason: text.isEmpty ? "no text was generated" : "no verdict found")
        }
        let written = String(text[whole])
        let captured =
            match.numberOfRanges > 1 ? Range(match.range(at: 1), in: text).map { String(text[$0]) } ?? "" : written
        switch interpret(captured.trimmingCharacters(in: .whitespaces)) {
        case .success(let verdict): return VerdictReading(verdict: verdict, written: written, reason: nil)
        case .failure(let problem):
            return VerdictReading(
                verdict: nil, written: written, reason: "malformed verdict \(written): \(problem.text)")
        }
    }

    struct Problem: Error { var text: String }

    func interpret(_ captured: String) -> Result<Verdict, Problem> {
        switch kind {
        case .pair:
            let upper = captured.uppercased()
            if upper == "A" { return .success(.pair(0)) }
            if upper == "B" { return .success(.pair(1)) }
            if ["C", "TIE", "A=B", "B=A"].contains(upper.replacingOccurrences(of: " ", with: "")) {
                return .success(.pair(nil))
            }
            return .failure(Problem(text: "expected A or B"))
        case .rank:
            return ranking(captured).map(Verdict.ranking)
        case .critique, .plain:
            guard let value = Double(captured), value.isFinite else {
                return .failure(Problem(text: "the score is not a number"))
            }
            guard Double(scale.lowerBound) <= value && value <= Double(scale.upperBound) else {
                return .failure(Problem(text: "the score is outside \(scale.lowerBound)…\(scale.upperBound)"))
            }
            return .success(.score(value))
        }
    }

    /// `B>A>C`, `B > A = C`: every shown label exactly once.
    private func ranking(_ text: String) -> Result<[[Int]], Problem> {
        var groups: [[Int]] = []
        var seen: Set<Int> = []
        for group in text.split(separator: ">", omittingEmptySubsequences: false) {
            var labels: [Int] = []
            for raw in group.split(separator: "=", omittingEmptySubsequences: false) {
                let name = raw.trimmingCharacters(in: .whitespaces).uppercased()
                guard name.count == 1, let scalar = name.unicodeScalars.first, ("A"..."Z").contains(scalar) else {
                    return .failure(
                        Problem(text: name.isEmpty ? "an empty place in the ranking" : "\"\(name)\" is not a label"))
                }
                let index = Int(scalar.value) - Int(UnicodeScalar("A").value)
                guard index < labelCount else {
                    return .failure(Problem(text: "\(name) is not one of the \(labelCount) labels shown"))
                }
                guard seen.insert(index).inserted else { return .failure(Problem(text: "\(name) appears twice")) }
                labels.append(index)
            }
            groups.append(labels)
        }
        guard seen.count == labelCount else {
            let missing = (0..<labelCount).filter { !seen.contains($0) }.map(JudgeLabels.name)
            return .failure(Problem(text: "missing \(missing.joined(separator: ", "))"))
        }
        return .success(groups)
    }
}

public enum JudgeLabels {
    /// "A", "B", … for label indices 0, 1, …
    public static func name(_ index: Int) -> String { String(UnicodeScalar(UInt8(65 + index))) }
    /// "A, B and C".
    static func list(_ count: Int) -> String {
        let names = (0..<count).map(name)
        guard names.count > 1 else { return names.first ?? "" }
        return names.dropLast().joined(separator: ", ") + " and " + names.last!
    }
}
