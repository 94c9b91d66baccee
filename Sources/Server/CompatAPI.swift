import HTTPParser
import Scoring

/// The routes other servers define, so RLHF frameworks and their clients need no adapter (docs/INTEGRATIONS.md):
/// vLLM's `/classify` (verl's reward loop) and `/score`, and `/rerank` as Jina, llama.cpp, vLLM and TEI
/// clients send it. Each maps onto the pointwise batch path (`scoreGrouped`): same batching, same prefix
/// sharing and caching as `/v1/score`. The `model` a client names is not checked (verl sends its own path of
/// the reward model); the answer names the loaded one.
extension ScoringAPI {
    /// Rows of the route table. Errors come in `CompatErrorBody` (vLLM's fields beside ours).
    var compatEndpoints: [Endpoint] {
        [
            compatPost("/classify") { try await $0.classify($1, $2) },
            compatPost("/v1/classify") { try await $0.classify($1, $2) },
            compatPost("/score") { try await $0.pairScore($1, $2) },
            compatPost("/rerank") { try await $0.rerank($1, $2) },
            compatPost("/v1/rerank") { try await $0.rerank($1, $2) },
            compatPost("/v1/chat/completions") { try await $0.chatCompletion($1, $2) },
        ]
    }

    private func compatPost(
        _ path: String,
        _ run: @escaping @Sendable (ScoringAPI, [UInt8], RequestContext) async throws -> HTTPResponse
    ) -> Endpoint {
        Endpoint("POST", path) { [self] request, context in
            await respond(render: HTTPResponse.compatError) { try await run(self, request.body, context) }
        }
    }

    /// vLLM's classification: each input is a whole text (prompt and response rendered with the reward model's
    /// chat template), split as `/get_reward` splits a query. `probs` holds every label's output (the one
    /// reward without a classifier head), through `Activation`.
    func classify(_ body: [UInt8], _ context: RequestContext) async throws -> HTTPResponse {
        let decoded = try JSONBody.decode(ClassifyBody.self, from: body)
        guard decoded.input.count <= 4096 else { throw APIError.badRequest("at most 4096 inputs", field: "input") }
        let queries: [RewardQueries.Item]
        do {
            queries = try service.rewardQueries(decoded.input, prompts: nil, method: defaultMethod)
        } catch {
            throw Self.renamingQuery(error, to: "input", hint: Self.classifyHint)
        }
        let scored = try await scoreGrouped(
            queries.map { ($0.input, $0.response) }, options: ScoringOptions(method: defaultMethod),
            deadline: ContinuousClock.now + .milliseconds(defaultTimeoutMs), field: "input")
        context.report.record(queueMs: scored.timings.queueMs, computeMs: scored.timings.computeMs)
        let labels = scored.head?.labels
        let data = scored.rewards.indices.map { i in
            let outputs = scored.head.map { $0.rewardVectors[i] } ?? [finite(scored.rewards[i])]
            let probs = finite(Activation.apply(outputs, requested: decoded.activation))
            let top = probs.indices.max { probs[$0] < probs[$1] } ?? 0
            return ClassifyEntry(
                index: i, label: labels.flatMap { $0.indices.contains(top) ? $0[top] : nil }, probs: probs)
        }
        return listResponse("classify", data, scored, context)
    }

    /// vLLM's `/score`: `text_1[i]` is the prompt and `text_2[i]` the response, scored as a `/v1/score` item
    /// `{"prompt": text_1[i], "response": text_2[i]}`.
    func pairScore(_ body: [UInt8], _ context: RequestContext) async throws -> HTTPResponse {
        let decoded = try JSONBody.decode(PairScoreBody.self, from: body)
        guard decoded.pairs.count <= 1024 else { throw APIError.badRequest("at most 1024 pairs", field: "text_2") }
        let scored = try await scorePairs(decoded.pairs, field: "text_2")
        context.report.record(queueMs: scored.timings.queueMs, computeMs: scored.timings.computeMs)
        let data = scored.rewards.enumerated().map { i, reward in
            PairScoreEntry(
                index: i, score: finite(Activation.apply([finite(reward)], requested: decoded.activation)[0]))
        }
        return listResponse("score", data, scored, context)
    }

    /// vLLM's list answer for `/classify` and `/score`.
    private func listResponse<Entry: Encodable>(
        _ idPrefix: String, _ data: [Entry], _ scored: GroupedScores, _ context: RequestContext
    ) -> HTTPResponse {
        .json(
            status: 200,
            CompatListBody(
                id: compatID(idPrefix, context.requestID), created: unixSeconds(), model: service.info.modelName,
                data: data, usage: CompatUsage(promptTokens: scored.usage.tokens)),
            headers: headers(scored.timings))
    }

    /// Rerank: the query is the prompt and each document a response; results best first (ties in input order),
    /// cut to `top_n`. Jina/vLLM requests (`documents`) get `{"results": [...]}` with the raw reward (or its
    /// sigmoid with `use_activation`); TEI requests (`texts`) get TEI's bare array with a sigmoid unless
    /// `raw_scores`.
    func rerank(_ body: [UInt8], _ context: RequestContext) async throws -> HTTPResponse {
        let decoded = try JSONBody.decode(RerankBody.self, from: body)
        let field = decoded.flavour == .jina ? "documents" : "texts"
        guard decoded.documents.count <= 1024 else {
            throw APIError.badRequest("at most 1024 documents", field: FieldPath(field))
        }
        let scored = try await scorePairs(decoded.documents.map { (decoded.query, $0) }, field: field)
        context.report.record(queueMs: scored.timings.queueMs, computeMs: scored.timings.computeMs)
        let scores = scored.rewards.map { reward in
            let raw = finite(reward)
            switch decoded.flavour {
            case .jina: return finite(Activation.apply([raw], requested: decoded.activation)[0])
            case .tei: return decoded.rawScores ? raw : Activation.sigmoid(raw)
            }
        }
        var order = scores.indices.sorted { scores[$0] > scores[$1] || scores[$0] == scores[$1] && $0 < $1 }
        if let n = decoded.topN, n > 0 { order = Array(order.prefix(n)) }
        let text = { (i: Int) in decoded.returnDocuments ? decoded.documents[i] : nil }
        switch decoded.flavour {
        case .jina:
            return .json(
                status: 200,
                RerankResponseBody(
                    id: compatID("rerank", context.requestID), model: service.info.modelName,
                    results: order.map {
                        .init(index: $0, relevanceScore: scores[$0], document: text($0).map { .init(text: $0) })
                    },
                    usage: CompatUsage(promptTokens: scored.usage.tokens)),
                headers: headers(scored.timings))
        case .tei:
            return .json(
                status: 200, order.map { TEIRank(index: $0, score: scores[$0], text: text($0)) },
                headers: headers(scored.timings))
        }
    }

    /// The split names the field `query[i]` and points at `/get_reward`'s `prompts`, which `/classify` lacks.
    private static func renamingQuery(_ error: ScoringError, to key: String, hint: String) -> ScoringError {
        guard case .invalidRequest(let path, let reason) = error, let (_, index) = path.keyAndIndex else {
            return error
        }
        let cut = reason.range(of: "; send \"prompts\"").map { String(reason[..<$0.lowerBound]) + hint } ?? reason
        return .invalidRequest(field: FieldPath(key).index(index), reason: cut)
    }

    private static let classifyHint =
        "; render each input with the model's chat template, or send the prompt and the response apart to /score"

    /// (prompt, response) pairs through the pointwise path, prompts shared where equal.
    private func scorePairs(_ pairs: [(prompt: String, response: String)], field: String) async throws
        -> GroupedScores
    {
        try await scoreGrouped(
            pairs.map { (PromptInput.contextPrompt(context: "", prompt: $0.prompt), $0.response) },
            options: ScoringOptions(method: defaultMethod),
            deadline: ContinuousClock.now + .milliseconds(defaultTimeoutMs), field: field)
    }
}

extension UsageBody {
    /// Every token the request scored: the shared prompts once each, plus every response.
    var tokens: Int { promptTokens + responseTokens.reduce(0, +) }
}
