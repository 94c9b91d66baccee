/// How a judge request's prompts map to its candidates and how their outputs are read (Scorer+Judge.swift).
struct JudgeRun: Sendable, Equatable {
    struct Prompt: Sendable, Equatable {
        /// Candidate indices in the order shown (label A first).
        var shown: [Int]
        /// rank: the chunk of candidates this prompt ranks (chunks are ranked apart when N is large).
        var chunk: Int
        var group: Int
        var suffix: Int
    }
    var template: JudgeTemplate
    var mode: JudgeMode
    var returnText: Bool
    var candidateCount: Int
    var prompts: [Prompt]
    /// Probability mode: the label read at each verdict token, in token order ("A", "B", … or the scores).
    var labels: [String]
}

extension Planner {
    /// Most candidates one ranking prompt shows; more are split into balanced chunks ranked apart.
    static let rankChunk = 8
    /// Rotations per ranking chunk: every rotation for up to 4 candidates, else 4 evenly spaced ones.
    static let maxRotations = 4

    /// The template a request names, or the endpoint's default; refuses combinations that cannot work.
    func judgeTemplate(_ request: ScoringRequest, pairwise: Bool, pointwise: Bool) throws(ScoringError) -> JudgeTemplate
    {
        let options = request.options.judge
        let template: JudgeTemplate
        if let name = options.template {
            guard let named = judge.templates[name] else {
                throw .invalidRequest(
                    field: "judge_template",
                    reason: "unknown template \"\(name)\"; this server has "
                        + judge.templates.names.map { "\"\($0)\"" }.joined(separator: ", "))
            }
            template = named
        } else if model.chatTemplate == nil && options.mode == .probability {
            template = .plain
        } else {
            template = pairwise ? .pair : pointwise ? .critique : .rank
        }
        let n = request.responses.count
        switch template.kind {
        case .plain where options.mode == .generate:
            throw .invalidRequest(
                field: "judge_mode",
                reason: "template \"\(template.name)\" reads verdict probabilities only; use judge_mode \"probability\""
            )
        case .pair where n != 2 || pointwise:
            throw .invalidRequest(
                field: "judge_template",
                reason: "template \"\(template.name)\" compares exactly 2 responses; use a rank or critique template")
        case .rank where pointwise:
            throw .invalidRequest(
                field: "judge_template",
                reason:
                    "template \"\(template.name)\" ranks responses against each other; /v1/score judges each on its own (use a critique template)"
            )
        default:
            break
        }
        if options.mode == .generate || options.maxNewTokens != nil {
            let limit = judge.maxNewTokensCap
            let asked = options.maxNewTokens ?? judge.defaultMaxNewTokens
            guard (1...limit).contains(asked) else {
                throw .invalidRequest(
                    field: "max_new_tokens",
                    reason: "must be from 1 to \(limit) (the server's cap, --judge-max-new-tokens), got \(asked)")
            }
        }
        return template
    }

    /// Which candidates each prompt shows: a pair's two orders, a ranking's rotations (per chunk), or one
    /// candidate per critique.
    static func promptOrders(kind: JudgeTemplate.Kind, count n: Int) -> [(shown: [Int], chunk: Int)] {
        switch kind {
        case .pair:
            return [([0, 1], 0), ([1, 0], 0)]
        case .rank:
            let chunks = (n + rankChunk - 1) / rankChunk
            var orders: [(shown: [Int], chunk: Int)] = []
            var start = 0
            for c in 0..<chunks {
                let size = n / chunks + (c < n % chunks ? 1 : 0)
                let members = Array(start..<start + size)
                start += size
                let rotations =
                    size <= maxRotations ? Array(0..<size) : (0..<maxRotations).map { $0 * size / maxRotations }
                for shift in rotations { orders.append((Array(members[shift...] + members[..<shift]), c)) }
            }
            return orders
        case .critique, .plain:
            return (0..<n).map { ([$0], $0) }
        }
    }

    func planJudge(_ request: ScoringRequest, template: JudgeTemplate, pairwise: Bool) throws(ScoringError)
        -> (groups: [GroupPlan], truncated: Int, run: JudgeRun)
    {
        let options = request.options.judge
        let generate = options.mode == .generate
        let maxNewTokens = options.maxNewTokens ?? judge.defaultMaxNewTokens
        let orders = Self.promptOrders(kind: template.kind, count: request.responses.count)

        var groupLevels: [[[Segment]]] = []
        var groupSuffixes: [[(tokens: [Int32], labels: [String])]] = []
        var prompts: [JudgeRun.Prompt] = []
        var allLabels: [String] = []
        for order in orders {
            let rendered = JudgeLayout.render(
                template, input: request.input, shown: order.shown.map { request.responses[$0] },
                model: model, answerPrefix: !generate)
            let labels =
                template.kind == .critique
                ? (template.scaleMin...template.scaleMax).map(String.init)
                : order.shown.indices.map(JudgeLabels.name)
            if labels.count > allLabels.count { allLabels = labels }
            let g: Int
            if let existing = groupLevels.firstIndex(of: rendered.levels) {
                g = existing
            } else {
                groupLevels.append(rendered.levels)
                groupSuffixes.append([])
                g = groupLevels.count - 1
            }
            groupSuffixes[g].append((tokenize(rendered.suffix), labels))
            prompts.append(
                JudgeRun.Prompt(shown: order.shown, chunk: order.chunk, group: g, suffix: groupSuffixes[g].count - 1))
        }

        var groups: [GroupPlan] = []
        var truncated = 0
        for (levels, suffixes) in zip(groupLevels, groupSuffixes) {
            var tokenized = layoutLevels(levels)
            let longest = (suffixes.map(\.tokens.count).max() ?? 0) + (generate ? maxNewTokens : 0)
            truncated = max(
                truncated, try fit(&tokenized, longestSuffix: longest, truncation: request.options.truncation))
            let plans = try suffixes.map { suffix throws(ScoringError) -> SuffixPlan in
                let output: OutputKind =
                    generate
                    ? .generate(GenerationSpec(maxNewTokens: maxNewTokens, stopPattern: template.verdictPattern))
                    : .verdict(try verdictTokens(suffix.labels, after: template.answerPrefix))
                return SuffixPlan(tokens: suffix.tokens, output: output)
            }
            groups.append(GroupPlan(levels: tokens(tokenized), suffixes: plans))
        }
        let run = JudgeRun(
            template: template, mode: options.mode, returnText: options.returnText,
            candidateCount: request.responses.count, prompts: prompts, labels: allLabels)
        return (groups, truncated, run)
    }

    /// The token each label starts with right after the answer prefix (`[[` → `A`), found by tokenising
    /// prefix + label and taking what follows the prefix's own tokens. Probability mode needs a different
    /// token per label: a scale such as 1…10 ("1" and "10" start alike) cannot be read this way.
    func verdictTokens(_ labels: [String], after prefix: String) throws(ScoringError) -> [Int32] {
        let base = model.tokenize(prefix)
        let tokens = labels.map { label -> Int32 in
            let full = model.tokenize(prefix + label)
            if !prefix.isEmpty, full.count > base.count, full.starts(with: base) { return full[base.count] }
            return model.tokenize(label).first ?? 0
        }
        guard Set(tokens).count == tokens.count else {
            throw .invalidRequest(
                field: "judge_mode",
                reason: "the verdicts \(labels.joined(separator: ", ")) do not start with distinct tokens "
                    + "for this model, so their probabilities cannot be read; use judge_mode \"generate\"")
        }
        return tokens
    }

    /// Today's plain layout as a run: pairs in both orders, else one rating prompt per response.
    func plainJudgeRun(_ request: ScoringRequest, pairwise: Bool) -> JudgeRun {
        let isPair = pairwise && request.responses.count == 2
        let orders = isPair ? [[0, 1], [1, 0]] : request.responses.indices.map { [$0] }
        return JudgeRun(
            template: .plain, mode: .probability, returnText: false, candidateCount: request.responses.count,
            prompts: orders.enumerated().map {
                JudgeRun.Prompt(shown: $1, chunk: isPair ? 0 : $1[0], group: 0, suffix: $0)
            },
            labels: isPair ? PromptLayout.verdictLabels : PromptLayout.ratingLabels)
    }
}
