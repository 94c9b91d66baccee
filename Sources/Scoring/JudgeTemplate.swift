import Foundation

/// A generative judge's prompt: system and user text with placeholders, the text that starts the assistant
/// turn when the verdict is read from probabilities, and the pattern its verdict is written in.
///
/// Placeholders (in `user`; `{labels}`, `{scale_min}` and `{scale_max}` may also appear in `system`):
/// - `{context}`, `{question}`: required in every template. The context comes first so that it (and then
///   the question) can be cached as prefix levels shared by every order and candidate.
/// - `pair`: `{response_a}`, `{response_b}`. `rank`: `{responses}` (each answer between its
///   "[The Start of Assistant X's Answer]" / "[The End of Assistant X's Answer]" markers) and optionally
///   `{labels}` ("A, B, C"). `critique`: `{response}`, optionally `{scale_min}`, `{scale_max}`.
public struct JudgeTemplate: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable, Codable {
        /// Two answers, verdict `[[A]]` or `[[B]]` (`[[C]]` or `[[tie]]` for a tie).
        case pair
        /// N answers, verdict a ranking `[[B>A>C]]` (`=` for ties).
        case rank
        /// One answer, a critique, then `[Score: N]` on the template's scale.
        case critique
        /// Today's plain-text layout for base models: " A"/" B" after "Answer:" for pairs, a 0–9 rating
        /// after "Rating:" otherwise. Probability mode only.
        case plain
    }

    public var name: String
    public var kind: Kind
    public var system: String
    public var user: String
    /// Starts the assistant turn in probability mode; the verdict's first token follows it.
    public var answerPrefix: String
    /// A regular expression with exactly one capture group around the verdict (e.g. `\[\[(.*?)\]\]`).
    /// Deliberately loose: the captured text is validated by `VerdictParser`, so a malformed verdict is
    /// reported as malformed rather than as missing.
    public var verdictPattern: String
    /// critique: the stated score scale.
    public var scaleMin: Int
    public var scaleMax: Int

    public init(
        name: String, kind: Kind, system: String, user: String, answerPrefix: String, verdictPattern: String,
        scaleMin: Int = 0, scaleMax: Int = 9
    ) {
        self.name = name; self.kind = kind; self.system = system; self.user = user
        self.answerPrefix = answerPrefix; self.verdictPattern = verdictPattern
        self.scaleMin = scaleMin; self.scaleMax = scaleMax
    }

    /// Placeholders `user` must hold for this kind.
    public static func requiredPlaceholders(_ kind: Kind) -> [String] {
        switch kind {
        case .pair: return ["{context}", "{question}", "{response_a}", "{response_b}"]
        case .rank: return ["{context}", "{question}", "{responses}"]
        case .critique: return ["{context}", "{question}", "{response}"]
        case .plain: return []
        }
    }

    /// The placeholders where per-order (or per-candidate) text starts: everything before the first of them
    /// is shared by every prompt of a request.
    static func responsePlaceholders(_ kind: Kind) -> [String] {
        switch kind {
        case .pair: return ["{response_a}", "{response_b}"]
        case .rank: return ["{responses}"]
        case .critique: return ["{response}"]
        case .plain: return []
        }
    }

    /// Refuses a template that cannot work: a missing placeholder (named), a verdict pattern that does not
    /// compile or has no single capture group, an empty scale.
    public func validated() throws(ScoringError) -> JudgeTemplate {
        let missing = Self.requiredPlaceholders(kind).filter { !user.contains($0) }
        if !missing.isEmpty {
            throw .invalidRequest(
                field: "judge-template",
                reason: "template \"\(name)\" lacks the placeholder\(missing.count > 1 ? "s" : "") "
                    + missing.joined(separator: ", ") + " in its user text")
        }
        if kind == .plain { return self }
        guard let regex = try? NSRegularExpression(pattern: verdictPattern) else {
            throw .invalidRequest(
                field: "judge-template",
                reason: "template \"\(name)\": verdict_pattern is not a valid regular expression")
        }
        guard regex.numberOfCaptureGroups == 1 else {
            throw .invalidRequest(
                field: "judge-template",
                reason:
                    "template \"\(name)\": verdict_pattern needs exactly one capture group, has \(regex.numberOfCaptureGroups)"
            )
        }
        if kind == .critique && scaleMin >= scaleMax {
            throw .invalidRequest(
                field: "judge-template", reason: "template \"\(name)\": the scale needs scale_min < scale_max")
        }
        return self
    }

    // MARK: built-in templates

    static let answerBlock =
        "[The Start of Assistant {label}'s Answer]\n{answer}\n[The End of Assistant {label}'s Answer]"

    static let pairPattern = #"\[\[([^\[\]\n]{1,40})\]\]"#
    static let scorePattern = #"\[Score:\s*([^\]\n]{0,20})\]"#

    public static let pair = JudgeTemplate(
        name: "pair", kind: .pair,
        system: "You are an impartial judge. You are given a context, a question about it and two answers written by "
            + "AI assistants. Decide which answer responds to the question better: it must be correct, supported by "
            + "the context, and helpful. Neither the order in which the answers appear nor their length may sway you. "
            + "Give a short explanation, then your final verdict in exactly this form: \"[[A]]\" if Assistant A's "
            + "answer is better, \"[[B]]\" if Assistant B's answer is better.",
        user: "[Context]\n{context}\n\n[Question]\n{question}\n\n"
            + answerBlock.replacingOccurrences(of: "{label}", with: "A").replacingOccurrences(
                of: "{answer}", with: "{response_a}")
            + "\n\n"
            + answerBlock.replacingOccurrences(of: "{label}", with: "B").replacingOccurrences(
                of: "{answer}", with: "{response_b}"),
        answerPrefix: "[[", verdictPattern: pairPattern)

    public static let rank = JudgeTemplate(
        name: "rank", kind: .rank,
        system: "You are an impartial judge. You are given a context, a question about it and several answers written "
            + "by AI assistants, labelled {labels}. Rank the answers from best to worst: a better answer is correct, "
            + "supported by the context, and helpful. Neither the order in which the answers appear nor their length "
            + "may sway you. Give a short analysis, then your final ranking in exactly this form, best first, using "
            + "every label once: \"[[B>A>C]]\".",
        user: "[Context]\n{context}\n\n[Question]\n{question}\n\n{responses}",
        answerPrefix: "[[", verdictPattern: pairPattern)

    public static let critique = JudgeTemplate(
        name: "critique", kind: .critique,
        system: "You are a strict reviewer. You are given a context, a question about it and one answer written by an "
            + "AI assistant. Write a brief critique of the answer: is it correct, supported by the context, and "
            + "helpful? Then give a score from {scale_min} (wrong or unsupported) to {scale_max} (correct, supported "
            + "and helpful) in exactly this form: \"[Score: N]\".",
        user: "[Context]\n{context}\n\n[Question]\n{question}\n\n"
            + answerBlock.replacingOccurrences(of: "Assistant {label}'s", with: "Assistant's").replacingOccurrences(
                of: "{answer}", with: "{response}"),
        answerPrefix: "[Score: ", verdictPattern: scorePattern, scaleMin: 0, scaleMax: 9)

    public static let plain = JudgeTemplate(
        name: "plain", kind: .plain, system: "", user: "", answerPrefix: "", verdictPattern: "")

    public static let builtIn: [JudgeTemplate] = [.pair, .rank, .critique, .plain]
}

/// The templates a server offers: the built-ins plus those loaded from `--judge-template` files (a file's
/// template replaces a built-in of the same name).
public struct JudgeTemplates: Sendable, Equatable {
    public private(set) var all: [JudgeTemplate]

    public init(extra: [JudgeTemplate] = []) {
        all = JudgeTemplate.builtIn.filter { b in !extra.contains { $0.name == b.name } } + extra
    }

    public subscript(name: String) -> JudgeTemplate? { all.first { $0.name == name } }
    public var names: [String] { all.map(\.name) }
}

/// The judge settings a server starts with.
public struct JudgeConfiguration: Sendable, Equatable {
    public var templates: JudgeTemplates
    /// `max_new_tokens` when a request does not say, and the most a request may ask for.
    public var defaultMaxNewTokens: Int
    public var maxNewTokensCap: Int

    public init(
        templates: JudgeTemplates = JudgeTemplates(), defaultMaxNewTokens: Int = 512, maxNewTokensCap: Int = 2048
    ) {
        self.templates = templates; self.defaultMaxNewTokens = defaultMaxNewTokens;
        self.maxNewTokensCap = maxNewTokensCap
    }
}
