import Foundation

/// A chat completion (OpenAI's `/v1/chat/completions` subset): the messages laid out as likelihood scoring lays
/// them out (the model's chat template with its assistant header, else the plain `Assistant:` layout), then
/// greedy generation on the judge's continuous batch (Session+Generation.swift).
public struct CompletionRequest: Sendable, Equatable {
    public var messages: [ChatMessage]
    /// Generated tokens at most; nil: the server's judge default (`--judge-max-new-tokens`).
    public var maxTokens: Int?
    /// nil: no log-probabilities; 0…20: each token's, with this many alternatives.
    public var topLogprobs: Int?

    public init(messages: [ChatMessage], maxTokens: Int? = nil, topLogprobs: Int? = nil) {
        self.messages = messages; self.maxTokens = maxTokens; self.topLogprobs = topLogprobs
    }
}

public struct CompletionResult: Sendable, Equatable {
    public enum Finish: String, Sendable {
        /// The model ended its turn.
        case stop
        /// `maxTokens` generated.
        case length
    }
    public var text: String
    public var finish: Finish
    public var promptTokens: Int
    public var completionTokens: Int
    public var reusedPromptTokens: Int
    public var logprobs: [TokenLogprobs]?
    public var timings: Timings

    public init(
        text: String, finish: Finish, promptTokens: Int, completionTokens: Int, reusedPromptTokens: Int = 0,
        logprobs: [TokenLogprobs]? = nil, timings: Timings
    ) {
        self.text = text; self.finish = finish; self.promptTokens = promptTokens
        self.completionTokens = completionTokens; self.reusedPromptTokens = reusedPromptTokens
        self.logprobs = logprobs; self.timings = timings
    }
}

extension TokenLogprobs.Alternative {
    public init(token: Int32, text: String, logprob: Double) {
        self.init(token: token, bytes: Array(text.utf8), logprob: logprob)
    }
}

extension Scorer {
    public func complete(_ request: CompletionRequest, deadline: ContinuousClock.Instant? = nil)
        async throws(ScoringError)
        -> CompletionResult
    {
        guard model.isCausal && model.head == nil else {
            throw .unsupportedMethod(
                .judge, reason: "the loaded model \(model.name) is not a generative model (it has no trained LM head)")
        }
        guard configuration.generationSequences >= 1 else {
            throw .invalidRequest(
                field: "messages", reason: "this server has no sequences for generation (--judge-sequences 0)")
        }
        let maxTokens = request.maxTokens ?? judge.defaultMaxNewTokens
        guard (1...judge.maxNewTokensCap).contains(maxTokens) else {
            throw .invalidRequest(
                field: "max_tokens", reason: "must be from 1 to \(judge.maxNewTokensCap) (--judge-max-new-tokens-cap)")
        }
        let planner = Planner(model: model, window: window, judge: judge)
        var levels = planner.layoutLevels(PromptLayout.levels(for: .messages(request.messages), model: model))
        _ = try planner.fit(&levels, longestSuffix: maxTokens + 1, truncation: .none)
        // The last prompt token is the candidate's own suffix, so the cached levels stay the ones scoring uses.
        var prefix = planner.tokens(levels)
        guard var last = prefix.indices.last, let tail = prefix[last].popLast() else {
            throw .invalidRequest(field: "messages", reason: "renders to no tokens")
        }
        if prefix[last].isEmpty {
            prefix.remove(at: last)
            last -= 1
        }
        let spec = GenerationSpec(maxNewTokens: maxTokens, stopPattern: nil, topLogprobs: request.topLogprobs)
        let plan = JobPlan(groups: [
            GroupPlan(levels: prefix, suffixes: [SuffixPlan(tokens: [tail], output: .generate(spec))])
        ])
        let completed = try await runOnPool(
            configuration.sharePrefix ? plan : plan.unshared(), contextKey: ContextKey.of(prefix.flatMap { $0 }),
            deadline: deadline)
        guard let generated = completed.outcome.groups.first?.generated.first else {
            throw .engineFailure("generation returned no text")
        }
        // The plain layout ends with "Assistant:"; the answer's first space belongs to the layout, as in scoring.
        let plain = model.chatTemplate == nil && generated.text.hasPrefix(" ")
        return CompletionResult(
            text: plain ? String(generated.text.dropFirst()) : generated.text,
            finish: generated.stop == .endOfTurn ? .stop : .length,
            promptTokens: prefix.reduce(1) { $0 + $1.count }, completionTokens: generated.tokens.count,
            reusedPromptTokens: completed.outcome.reusedTokens, logprobs: generated.logprobs,
            timings: Timings(queueMs: completed.queueMs, computeMs: completed.computeMs))
    }
}
