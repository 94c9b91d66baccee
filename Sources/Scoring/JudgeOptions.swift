/// How a judge reads its verdict.
public enum JudgeMode: String, Sendable, CaseIterable, Codable {
    /// The assistant turn starts with the template's answer prefix (e.g. `[[`) and the verdict tokens'
    /// probabilities are read there: no generation, exactly what the prefix cache serves.
    case probability
    /// Greedy decoding up to `max_new_tokens`, stopping at the verdict (or the end of the turn), then parsing it.
    case generate
}

/// A request's judge settings (method `judge` only).
public struct JudgeOptions: Sendable, Equatable {
    /// A template name (`pair`, `rank`, `critique`, `plain`, or one loaded with `--judge-template`); nil =
    /// the endpoint's default (`plain` for a model without a chat template in probability mode, else `pair`
    /// for /v1/pairwise, `rank` for /v1/best-of-n, `critique` for /v1/score).
    public var template: String?
    public var mode: JudgeMode
    /// Generation only; nil = the server's default.
    public var maxNewTokens: Int?
    /// Generation only: return each prompt's generated text.
    public var returnText: Bool

    public init(
        template: String? = nil, mode: JudgeMode = .probability, maxNewTokens: Int? = nil, returnText: Bool = false
    ) {
        self.template = template; self.mode = mode; self.maxNewTokens = maxNewTokens; self.returnText = returnText
    }
}

/// One judge prompt's outcome: which candidates it showed (label A first), and its verdict.
public struct JudgeVerdict: Sendable, Equatable {
    /// Candidate indices in the order shown: `shown[0]` was labelled A.
    public var shown: [Int]
    /// The verdict as written (generation) or as read (probability mode: the most probable label), nil
    /// when none could be read.
    public var verdict: String?
    /// Why `verdict` is nil (no verdict found, malformed, cut off at max_new_tokens).
    public var reason: String?
    /// Generation: the generated text, when `return_text` was asked.
    public var text: String?
    /// Generation: tokens generated, and why generation stopped (`verdict`, `end_of_turn`, `max_new_tokens`).
    public var generatedTokens: Int?
    public var stop: String?
}

/// The judge's part of a result.
public struct JudgeReport: Sendable, Equatable {
    public var template: String
    public var mode: JudgeMode
    /// Pairs and rankings: whether every order agreed on the best candidate (every verdict read). Nil for
    /// critiques.
    public var consistent: Bool?
    public var verdicts: [JudgeVerdict]

    public init(template: String, mode: JudgeMode, consistent: Bool?, verdicts: [JudgeVerdict]) {
        self.template = template; self.mode = mode; self.consistent = consistent; self.verdicts = verdicts
    }
}
