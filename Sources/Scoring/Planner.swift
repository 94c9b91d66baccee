/// Turns a request into token sequences: layout, tokenisation, window check and middle truncation.
struct Planner {
    let model: Model
    /// Tokens one sequence may hold (the per-sequence KV window).
    let window: Int
    /// Judge templates and generation limits (Planner+Judge.swift).
    var judge = JudgeConfiguration()

    struct Planned: Sendable {
        var plan: JobPlan
        var responseTokens: [Int]
        var truncatedTokens: Int
        var contextKey: String
        var normalization: Normalization
        /// Method judge: how the plan's prompts map to candidates, and how to read them.
        var judge: JudgeRun? = nil
    }

    /// `pairwise`: /v1/pairwise; `pointwise`: /v1/score (each response judged on its own).
    func plan(_ request: ScoringRequest, pairwise: Bool = false, pointwise: Bool = false) throws(ScoringError)
        -> Planned
    {
        try validate(request)
        let options = request.options
        let normalization = options.normalization ?? Normalization.defaultFor(options.method)
        guard normalization.isValid(for: options.method) else {
            throw .invalidRequest(
                field: "normalize",
                reason: "\"\(normalization.rawValue)\" does not apply to method \(options.method.rawValue)")
        }
        let responses = request.responses.map { response -> [Int32] in
            let text = PromptLayout.responseText(response, input: request.input, model: model)
            if case .raw(let prompt) = request.input {
                // An empty answer after a rendered assistant header is scored as ending the turn right there.
                if text.isEmpty, let end = model.endOfTurnToken { return [end] }
                // A whole rendered query carries its own BOS text: the prefix adds the one BOS.
                return prompt.isEmpty ? renderedTokens(text) : tokenize([.template(text)])
            }
            return tokenizeResponse(text)
        }
        if let empty = responses.firstIndex(where: \.isEmpty) {
            throw .invalidRequest(field: FieldPath("responses").index(empty), reason: "must not be empty")
        }
        var truncated = 0
        let groups: [GroupPlan]
        var judgeRun: JudgeRun?
        if model.head != nil && options.method != .classifier {
            throw .unsupportedMethod(
                options.method,
                reason: "the loaded model \(model.name) is a sequence classifier "
                    + "(\(model.head?.sourceArchitecture ?? "")): its language-model head is untrained; use classifier")
        }
        switch options.method {
        case .likelihood:
            var levels = layoutLevels(PromptLayout.levels(for: request.input, model: model))
            truncated = try fit(
                &levels, longestSuffix: responses.map(\.count).max() ?? 0, truncation: options.truncation)
            var planned = [
                GroupPlan(
                    levels: tokens(levels), suffixes: responses.map { SuffixPlan(tokens: $0, output: .tokenLogProbs) })
            ]
            if normalization == .lift {
                var bare = layoutLevels(PromptLayout.contextFreeLevels(for: request.input, model: model))
                _ = try fit(&bare, longestSuffix: responses.map(\.count).max() ?? 0, truncation: options.truncation)
                planned.append(GroupPlan(levels: tokens(bare), suffixes: planned[0].suffixes))
            }
            groups = planned
        case .classifier:
            guard model.classifierOutputs > 0 else {
                throw .unsupportedMethod(
                    .classifier, reason: "the loaded model \(model.name) has no classifier head (cls_out)")
            }
            if options.stepRewards && model.stepSeparatorToken == nil {
                throw .invalidRequest(
                    field: "step_rewards",
                    reason: "the loaded model \(model.name) has no step separator "
                        + "(convert it with --step-separator, e.g. <extra_0>)")
            }
            if let head = model.head {
                groups = [try headGroup(request, responses: responses, head: head, truncated: &truncated)]
                break
            }
            var levels = layoutLevels(PromptLayout.levels(for: request.input, model: model))
            truncated = try fit(
                &levels, longestSuffix: (responses.map(\.count).max() ?? 0) + model.endTokens.count,
                truncation: options.truncation)
            let prefix = tokens(levels)
            if model.isCausal {
                groups = [
                    GroupPlan(
                        levels: prefix,
                        suffixes: responses.map { SuffixPlan(tokens: $0 + model.endTokens, output: .pooled) })
                ]
            } else {
                let whole = prefix.flatMap { $0 }
                groups = [
                    GroupPlan(
                        levels: [],
                        suffixes: responses.map {
                            SuffixPlan(tokens: whole + model.endTokens + $0 + model.endTokens, output: .pooled)
                        })
                ]
            }
        case .judge:
            guard model.isCausal else {
                throw .unsupportedMethod(
                    .judge, reason: "the loaded model \(model.name) is not a generative (causal) model")
            }
            let template = try judgeTemplate(request, pairwise: pairwise, pointwise: pointwise)
            if template.kind != .plain {
                let judged = try planJudge(request, template: template, pairwise: pairwise)
                groups = judged.groups
                truncated = judged.truncated
                judgeRun = judged.run
                break
            }
            var levels = layoutLevels(PromptLayout.judgeLevels(for: request.input))
            let suffixes: [SuffixPlan]
            if pairwise && request.responses.count == 2 {
                let verdict = model.labelTokens(PromptLayout.verdictLabels)
                let (a, b) = (request.responses[0], request.responses[1])
                suffixes = [
                    SuffixPlan(
                        tokens: tokenize(PromptLayout.judgePairSuffix(first: a, second: b)), output: .verdict(verdict)),
                    SuffixPlan(
                        tokens: tokenize(PromptLayout.judgePairSuffix(first: b, second: a)), output: .verdict(verdict)),
                ]
            } else {
                let digits = model.labelTokens(PromptLayout.ratingLabels)
                suffixes = request.responses.map {
                    SuffixPlan(tokens: tokenize(PromptLayout.judgeRatingSuffix(response: $0)), output: .verdict(digits))
                }
            }
            truncated = try fit(
                &levels, longestSuffix: suffixes.map(\.tokens.count).max() ?? 0, truncation: options.truncation)
            groups = [GroupPlan(levels: tokens(levels), suffixes: suffixes)]
            judgeRun = plainJudgeRun(request, pairwise: pairwise)
        }
        let key = ContextKey.of(groups[0].levels.isEmpty ? groups[0].suffixes.first?.tokens ?? [] : groups[0].prefix)
        return Planned(
            plan: JobPlan(groups: groups), responseTokens: responses.map(\.count), truncatedTokens: truncated,
            contextKey: key, normalization: normalization, judge: judgeRun)
    }

    /// A converted sequence classifier: the conversation up to the response is the shared prefix; each suffix is
    /// the response plus the template's closing markup, scored where transformers pools (the last non-pad token)
    /// and, for step rewards, at every step separator.
    private func headGroup(
        _ request: ScoringRequest, responses: [[Int32]], head: ScoreHead,
        truncated: inout Int
    ) throws(ScoringError) -> GroupPlan {
        let separator = model.stepSeparatorToken
        let layout = PromptLayout.classifierLayout(for: request.input, model: model)
        var levels = layoutLevels(layout.levels)
        let tail = tokenize([.template(layout.tail)])
        var prefix: [[Int32]]
        var suffixes = responses.map { $0 + tail }
        if model.addsSpacePrefix, let whole = wholeRender(layout, request: request),
            (whole.sequences.map(\.count).max() ?? 0) <= window
        {
            (prefix, suffixes) = splitAtCommonPrefix(whole.sequences, prefix: whole.prefix)
        } else {
            truncated = try fit(
                &levels, longestSuffix: suffixes.map(\.count).max() ?? 0, truncation: request.options.truncation)
            prefix = tokens(levels)
        }
        return GroupPlan(
            levels: prefix,
            suffixes: suffixes.map { tokens in
                var positions: Set<Int> = [head.poolingIndex(in: tokens)]
                if request.options.stepRewards, let separator {
                    positions.formUnion(tokens.indices.filter { tokens[$0] == separator })
                }
                return SuffixPlan(tokens: tokens, output: .head(positions: positions.sorted()))
            })
    }

    /// A space-prefixing tokenizer (Llama-2/Mistral SentencePiece) gives other tokens for text tokenised in pieces
    /// than for the whole render, which is what transformers scores. So each response's whole render is tokenised
    /// at once — allowed only when no user text would parse as a special token (else nil: the piecewise path) —
    /// with the BOS the model adds, and `prefix` is the render up to the response.
    private func wholeRender(_ layout: (levels: [[Segment]], tail: String), request: ScoringRequest)
        -> (sequences: [[Int32]], prefix: [Int32])?
    {
        if case .raw = request.input { return nil }
        let segments = layout.levels.flatMap { $0 }
        let marker = model.head?.stepSeparator
        let userTexts =
            segments.filter { $0.kind == .content }.map(\.text)
            + request.responses.flatMap { response in marker.map { response.components(separatedBy: $0) } ?? [response]
            }
        for text in userTexts
        where model.tokenize(text, addSpecial: false, parseSpecial: true)
            != model.tokenize(text, addSpecial: false, parseSpecial: false)
        {
            return nil
        }
        let head = segments.map(\.text).joined()
        func render(_ text: String) -> [Int32] {
            model.startTokens + renderedTokens(text)
        }
        let sequences = request.responses.map {
            render(head + PromptLayout.responseText($0, input: request.input, model: model) + layout.tail)
        }
        return (sequences, render(head))
    }

    /// The longest token prefix all sequences (and the prefix render) share is the cached prefix; every suffix keeps at
    /// least one token.
    private func splitAtCommonPrefix(_ sequences: [[Int32]], prefix: [Int32]) -> ([[Int32]], [[Int32]]) {
        var shared = min(prefix.count, (sequences.map(\.count).min() ?? 1) - 1)
        for sequence in sequences {
            shared = zip(sequence.prefix(shared), prefix.prefix(shared)).prefix { $0 == $1 }.count
        }
        return ([Array(prefix.prefix(shared))], sequences.map { Array($0.dropFirst(shared)) })
    }

    /// User text is never parsed for special tokens, with one exception: a model's step separator (a special token
    /// such as `<extra_0>` that process reward models are trained on) is recognised so steps can be scored.
    private func tokenizeResponse(_ text: String) -> [Int32] {
        guard let separator = model.stepSeparatorToken, let marker = model.head?.stepSeparator, text.contains(marker)
        else {
            return tokenize([.content(text)])
        }
        let steps = text.components(separatedBy: marker)
        return steps.enumerated().flatMap { i, step in
            tokenize([.content(step)]) + (i < steps.count - 1 ? [separator] : [])
        }
    }

    private func validate(_ request: ScoringRequest) throws(ScoringError) {
        if request.responses.isEmpty {
            throw .invalidRequest(field: "responses", reason: "at least one response is required")
        }
        if request.responses.count > ScoringLimits.maxResponses {
            throw .invalidRequest(
                field: "responses",
                reason: "at most \(ScoringLimits.maxResponses) responses, got \(request.responses.count)")
        }
        // Rendered queries (OpenRLHF) may end at the assistant header: that empty answer gets a reward too.
        let emptyAllowed = if case .raw = request.input { true } else { false }
        for (i, r) in request.responses.enumerated() where r.isEmpty && !emptyAllowed {
            throw .invalidRequest(field: FieldPath("responses").index(i), reason: "must not be empty")
        }
        switch request.input {
        case .messages(let messages):
            if messages.isEmpty { throw .invalidRequest(field: "messages", reason: "at least one message is required") }
            for (i, m) in messages.enumerated() where m.role.isEmpty {
                throw .invalidRequest(field: FieldPath("messages").index(i).key("role"), reason: "must not be empty")
            }
        case .contextPrompt(let context, let prompt):
            if context.isEmpty && prompt.isEmpty {
                throw .invalidRequest(field: "prompt", reason: "context and prompt must not both be empty")
            }
        case .raw:
            break
        }
    }

    // MARK: tokenisation with truncatable content kept apart

    /// Levels of tokenised segments: [level][segment] → tokens, with the segment kinds alongside.
    typealias TokenizedLevels = [[(tokens: [Int32], kind: Segment.Kind)]]

    func layoutLevels(_ levels: [[Segment]]) -> TokenizedLevels {
        var out = levels.map { level in level.map { (tokens: tokenize([$0]), kind: $0.kind) } }
        // Rendered text (an OpenRLHF query, a template that writes `<bos>`) may carry the BOS already: one, not two.
        if let first = levels.first?.first, first.kind == .template { out[0][0].tokens = renderedTokens(first.text) }
        if !out.isEmpty { out[0].insert((tokens: model.startTokens, kind: .scaffold), at: 0) }
        return out
    }

    /// Tokens of rendered text without the BOS it may begin with (the layout adds the one BOS). The BOS text is cut
    /// before tokenising: a space-prefixing tokenizer would otherwise read the text after it as a new start.
    private func renderedTokens(_ text: String) -> [Int32] {
        if !model.startText.isEmpty, text.hasPrefix(model.startText) {
            return model.tokenize(String(text.dropFirst(model.startText.count)), addSpecial: false, parseSpecial: true)
        }
        return droppingStart(model.tokenize(text, addSpecial: false, parseSpecial: true))
    }

    private func droppingStart(_ tokens: [Int32]) -> [Int32] {
        guard !model.startTokens.isEmpty, tokens.starts(with: model.startTokens), tokens.count > model.startTokens.count
        else {
            return tokens
        }
        return Array(tokens.dropFirst(model.startTokens.count))
    }

    func tokens(_ levels: TokenizedLevels) -> [[Int32]] { levels.map { $0.flatMap(\.tokens) } }

    func tokenize(_ segments: [Segment]) -> [Int32] {
        segments.flatMap { model.tokenize($0.text, addSpecial: false, parseSpecial: $0.kind == .template) }
    }

    /// Makes prefix + the longest suffix fit the window, cutting the middle of the longest user text when
    /// allowed. Returns how many tokens were removed.
    func fit(_ levels: inout TokenizedLevels, longestSuffix: Int, truncation: Truncation) throws(ScoringError) -> Int {
        let prefix = levels.reduce(0) { $0 + $1.reduce(0) { $0 + $1.tokens.count } }
        let needed = prefix + longestSuffix
        guard needed > window else { return 0 }
        guard truncation == .middle else { throw .contextTooLong(needed: needed, available: window) }
        var excess = needed - window
        let removed = excess
        while excess > 0 {
            var best: (level: Int, segment: Int, count: Int)?
            for (l, level) in levels.enumerated() {
                for (s, segment) in level.enumerated()
                where segment.kind == .content && segment.tokens.count > (best?.count ?? 0) {
                    best = (l, s, segment.tokens.count)
                }
            }
            // Keep at least a little of each text: below that truncation would only return nonsense.
            guard let target = best, target.count > 16 else { throw .contextTooLong(needed: needed, available: window) }
            let cut = min(excess, target.count - 16)
            let kept = target.count - cut
            let head = kept / 2
            let original = levels[target.level][target.segment].tokens
            levels[target.level][target.segment].tokens = Array(original.prefix(head) + original.suffix(kept - head))
            excess -= cut
        }
        return removed
    }
}

/// A short, stable name for a token sequence: FNV-1a 64 over the token ids.
enum ContextKey {
    static func of(_ tokens: [Int32]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for token in tokens {
            var v = UInt32(bitPattern: token)
            for _ in 0..<4 {
                hash ^= UInt64(v & 0xff)
                hash &*= 0x0000_0100_0000_01b3
                v >>= 8
            }
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
