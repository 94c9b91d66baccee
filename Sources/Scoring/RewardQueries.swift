import CLlama

/// OpenRLHF's `/get_reward` queries (prompt + response, already rendered by the policy's chat template)
/// turned into scoring items: which part is the prompt (shared by the rollouts of one prompt) and which
/// part is scored.
///
/// - `prompts[i]`, when it is a prefix of `query[i]`, is the prompt (the client knows best).
/// - Otherwise the query is cut after its last assistant header (`ResponseBoundary`).
/// - `likelihood` and `judge` then score the response alone. Without a boundary `likelihood` refuses the
///   query: the log-probability of the whole text is dominated by the prompt and is not a reward.
/// - `classifier` always scores the whole text (what a sequence-classification reward model is trained
///   on); a boundary only lets the rollouts of one prompt share its computation, and is used only where
///   prompt tokens + response tokens are exactly the whole text's tokens.
public enum RewardQueries {
    public struct Item: Sendable, Equatable {
        public var input: PromptInput
        public var response: String
        public var source: BoundarySource
    }

    /// Queries without a boundary that share at least this many leading bytes are grouped (classifier):
    /// below it the shared computation does not pay for a separate cache level.
    static let minimumSharedPrefixBytes = 256

    public static func items(queries: [String], prompts: [String]?, method: ScoringMethod, model: Model)
        throws(ScoringError) -> [Item]
    {
        let tokens = { (text: String) in model.tokenize(text, addSpecial: false, parseSpecial: true) }
        let sameTokens = { (split: QuerySplit, query: String) in
            tokens(split.prompt) + tokens(split.response) == tokens(query)
        }
        return try items(
            queries: queries, prompts: prompts, method: method,
            own: ResponseBoundary.ownHeader(model.assistantHeader),
            sharesPrefix: model.isCausal, splitKeepsTokens: sameTokens)
    }

    /// The pure decision. `sharesPrefix`: the engine can share a prefix (causal models; encoders attend both
    /// ways). `splitKeepsTokens`: whether cutting a query there leaves its tokens unchanged.
    static func items(
        queries: [String], prompts: [String]?, method: ScoringMethod, own: AssistantHeader?,
        sharesPrefix: Bool, splitKeepsTokens: (QuerySplit, String) -> Bool
    ) throws(ScoringError) -> [Item] {
        for (i, query) in queries.enumerated() where query.isEmpty {
            throw .invalidRequest(field: FieldPath("query").index(i), reason: "must not be empty")
        }
        var items: [Item] = []
        for (i, query) in queries.enumerated() {
            let whole = Item(input: .raw(""), response: query, source: .none)
            if let prompts, i < prompts.count, !prompts[i].isEmpty, query.utf8.starts(with: prompts[i].utf8) {
                // The client's own split, for every method. The classifier scores the whole text's tokens, so it
                // takes the split only where the tokens stay those of the whole text (a space-prefixing tokenizer
                // reads the response as a new start), and never for an empty answer.
                let response = String(decoding: query.utf8.dropFirst(prompts[i].utf8.count), as: UTF8.self)
                let split = QuerySplit(prompt: prompts[i], response: response, source: .prompts)
                let wholeForClassifier =
                    method == .classifier && (response.isEmpty || !sharesPrefix || !splitKeepsTokens(split, query))
                items.append(
                    wholeForClassifier ? whole : Item(input: .raw(prompts[i]), response: response, source: .prompts))
                continue
            }
            guard let split = ResponseBoundary.split(query, own: own) else {
                if method == .likelihood {
                    throw .invalidRequest(
                        field: FieldPath("query").index(i),
                        reason: "no assistant header found, so the response cannot be told "
                            + "from the prompt (recognised: the model's own chat template, ChatML, Llama 3, Llama 4, Gemma, Mistral/Llama 2 "
                            + "[/INST], Phi-3/Zephyr, Phi-4, Command R, Granite, DeepSeek V3); send \"prompts\" (the prompt part of each query)"
                    )
                }
                items.append(whole)
                continue
            }
            switch method {
            case .likelihood, .judge:
                items.append(Item(input: .raw(split.prompt), response: split.response, source: split.source))
            case .classifier:
                let shareable = sharesPrefix && !split.response.isEmpty && splitKeepsTokens(split, query)
                items.append(
                    shareable ? Item(input: .raw(split.prompt), response: split.response, source: split.source) : whole)
            }
        }
        if method == .classifier && sharesPrefix { groupByCommonPrefix(&items, splitKeepsTokens: splitKeepsTokens) }
        return items
    }

    /// Classifier queries without a boundary that share a long leading text (the same prompt in an
    /// unrecognised template) are cut at their common prefix, so it is computed once. The cut is moved
    /// back to just after a line break, where tokenisers rarely merge across, and is kept only where the
    /// tokens stay exactly those of the whole text.
    static func groupByCommonPrefix(_ items: inout [Item], splitKeepsTokens: (QuerySplit, String) -> Bool) {
        let loose = items.indices.filter { items[$0].source == .none }
            .sorted { items[$0].response.utf8.lexicographicallyPrecedes(items[$1].response.utf8) }
        var run: [Int] = []
        func close() {
            defer { run = [] }
            guard run.count > 1 else { return }
            let texts = run.map { Array(items[$0].response.utf8) }
            var length = texts.dropFirst().reduce(texts[0].count) { min($0, commonPrefixLength(texts[0], $1)) }
            while length > 0 && texts[0][length - 1] != UInt8(ascii: "\n") { length -= 1 }
            guard length >= minimumSharedPrefixBytes else { return }
            let prompt = String(decoding: texts[0][..<length], as: UTF8.self)
            for (index, text) in zip(run, texts) where text.count > length {
                let query = items[index].response
                let split = QuerySplit(
                    prompt: prompt, response: String(decoding: text[length...], as: UTF8.self), source: .sharedPrefix)
                if splitKeepsTokens(split, query) {
                    items[index] = Item(input: .raw(prompt), response: split.response, source: .sharedPrefix)
                }
            }
        }
        for index in loose {
            if let last = run.last,
                commonPrefixLength(Array(items[last].response.utf8), Array(items[index].response.utf8))
                    < minimumSharedPrefixBytes
            {
                close()
            }
            run.append(index)
        }
        close()
    }

    static func commonPrefixLength(_ a: [UInt8], _ b: [UInt8]) -> Int {
        var n = 0
        while n < a.count && n < b.count && a[n] == b[n] { n += 1 }
        return n
    }
}

extension AssistantHeader {
    /// The assistant header a chat template renders (llama.cpp's built-in renderer, the one `PromptLayout`
    /// uses), found by rendering one user message with a placeholder, without and with the assistant
    /// header. Nil when llama.cpp does not know the template's family.
    static func of(template: String) -> String? {
        let mark = "\u{1}LONGRM0\u{1}"
        let message = [ChatMessage(role: "user", content: mark)]
        guard let without = Model.renderChat(template: template, message, addAssistantHeader: false),
            let with = Model.renderChat(template: template, message, addAssistantHeader: true)
        else { return nil }
        return derived(withoutHeader: without, withHeader: with, mark: mark)
    }
}

extension Model {
    /// The assistant header of the model's own chat template (nil without one llama.cpp knows).
    public var assistantHeader: String? { chatTemplate.flatMap(AssistantHeader.of(template:)) }

    /// What an empty answer is scored as: the token that ends an assistant turn (EOT, e.g.
    /// `<end_of_turn>`, `<|im_end|>`, `<|eot_id|>`), else end of sequence. Its log-probability right after
    /// the header is the model's view of answering nothing.
    var endOfTurnToken: Int32? {
        let eot = llama_vocab_eot(vocab)
        if eot >= 0 { return eot }
        let eos = llama_vocab_eos(vocab)
        return eos >= 0 ? eos : nil
    }
}
