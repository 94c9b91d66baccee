import Foundation
import Server
import Synchronization

@testable import Scoring

/// A `ScoringService` without a model, for API tests that need no engine: rewards are a pure function of the
/// text (longer response, lower reward), timings and the context key are fixed, and any `ScoringError` can
/// be made to happen. It checks what the API relies on the engine to check (response counts, empty
/// responses), so the API's mapping of those errors is tested too.
final class FakeScoringService: ScoringService {
    static let queueMs = 1.5
    static let computeMs = 250.0
    static let contextKey = "00000000fa4e0001"

    let info: ServiceInfo
    private let state = Mutex(State())

    private struct State {
        var queue = QueueSnapshot.make()
        var failure: ScoringError?
        var received: [ScoringRequest] = []
        var pins: [String: PinnedContext] = [:]
    }

    /// Pins the fake holds at most (a third is refused with `storageFull`, as a full KV budget is).
    static let maxPins = 2

    init(methods: [ScoringMethod] = [.likelihood, .judge], window: Int = 2048, labels: [String] = []) {
        info = ServiceInfo(
            modelName: "fake-model", window: window, trainedContext: 8192, methods: methods,
            classifierLabels: labels, hasChatTemplate: false, engineWorkers: 3, loadSeconds: 0.25)
    }

    /// Every later request fails with `error` (nil: succeed again).
    func fail(with error: ScoringError?) { state.withLock { $0.failure = error } }
    func setQueue(_ queue: QueueSnapshot) { state.withLock { $0.queue = queue } }
    /// The requests the API handed over, in order.
    var received: [ScoringRequest] { state.withLock { $0.received } }

    var queue: QueueSnapshot { state.withLock { $0.queue } }

    func pairwise(_ request: ScoringRequest, deadline: ContinuousClock.Instant?) async throws(ScoringError)
        -> PairwiseResult
    {
        guard request.responses.count == 2 else {
            throw .invalidRequest(
                field: "responses", reason: "pairwise needs exactly 2 responses, got \(request.responses.count)")
        }
        let result = try run(request)
        let margin = result.rewards[0] - result.rewards[1]
        return PairwiseResult.make(
            result: result, preferred: margin >= 0 ? 0 : 1, probability: 1 / (1 + exp(-margin)), margin: margin)
    }

    func bestOfN(_ request: ScoringRequest, deadline: ContinuousClock.Instant?) async throws(ScoringError)
        -> ScoringResult
    {
        guard request.responses.count >= 2 else {
            throw .invalidRequest(
                field: "responses", reason: "best-of-n needs 2…64 responses, got \(request.responses.count)")
        }
        return try run(request)
    }

    func score(_ request: ScoringRequest, deadline: ContinuousClock.Instant?) async throws(ScoringError)
        -> ScoringResult
    {
        try run(request)
    }

    func shutdown() {}

    /// A pin without a cache: the key is a hash of the input's text, the tokens its byte count.
    func pin(_ input: PromptInput, method: ScoringMethod, ttl: Duration, deadline: ContinuousClock.Instant?)
        async throws(ScoringError) -> PinResult
    {
        let text: String
        switch input {
        case .contextPrompt(let context, let prompt): text = context + "\u{1}" + prompt
        case .messages(let messages): text = messages.map(\.content).joined(separator: "\u{1}")
        case .raw(let raw): text = raw
        }
        let key = String(
            format: "%016llx", text.utf8.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 })
        let pinned = PinnedContext(key: key, tokens: text.utf8.count, expires: .now + ttl, method: method)
        try state.withLock { (s: inout State) throws(ScoringError) in
            if let failure = s.failure { throw failure }
            if s.pins[key] == nil && s.pins.count >= Self.maxPins {
                throw .storageFull("pinned contexts already hold what the KV budget allows")
            }
            s.pins[key] = pinned
        }
        return .make(
            context: pinned, reusedTokens: 0, computedTokens: pinned.tokens,
            timings: .make(queueMs: Self.queueMs, computeMs: Self.computeMs))
    }

    func unpin(_ key: String) -> Bool { state.withLock { $0.pins.removeValue(forKey: key) != nil } }

    var pinnedContexts: [PinnedContext] { state.withLock { Array($0.pins.values) } }

    /// The fake's completion: the last message's words, reversed, cut to `maxTokens` words; each word a token
    /// of log-probability -(its length)/10, the alternatives the same word then "x".
    func complete(_ request: CompletionRequest, deadline: ContinuousClock.Instant?) async throws(ScoringError)
        -> CompletionResult
    {
        let failure = state.withLock { $0.failure }
        if let failure { throw failure }
        let words = (request.messages.last?.content ?? "").split(separator: " ").reversed().map(String.init)
        let kept = Array(words.prefix(request.maxTokens ?? 16))
        let logprobs = request.topLogprobs.map { top in
            kept.enumerated().map { i, word in
                let chosen = TokenLogprobs.Alternative(
                    token: Int32(i), text: (i == 0 ? "" : " ") + word, logprob: -Double(word.count) / 10)
                let other = TokenLogprobs.Alternative(token: 99, text: "x", logprob: -5)
                return TokenLogprobs(chosen: chosen, top: Array([chosen, other].prefix(top)))
            }
        }
        return CompletionResult(
            text: kept.joined(separator: " "), finish: kept.count < words.count ? .length : .stop,
            promptTokens: 10, completionTokens: kept.count, logprobs: logprobs,
            timings: Timings.make(queueMs: Self.queueMs, computeMs: Self.computeMs))
    }

    /// The split rule without a model: `prompts` when given, no assistant header of its own.
    func rewardQueries(_ queries: [String], prompts: [String]?, method: ScoringMethod) throws(ScoringError)
        -> [RewardQueries.Item]
    {
        try RewardQueries.items(
            queries: queries, prompts: prompts, method: method, own: nil, sharesPrefix: true,
            splitKeepsTokens: { _, _ in true })
    }

    /// The reward the fake gives a response.
    static func reward(_ response: String) -> Double { -Double(response.utf8.count) / 10 }

    private func run(_ request: ScoringRequest) throws(ScoringError) -> ScoringResult {
        let failure = state.withLock { s in
            s.received.append(request)
            return s.failure
        }
        if let failure { throw failure }
        guard request.responses.count <= ScoringLimits.maxResponses else {
            throw .invalidRequest(field: "responses", reason: "at most 64 responses, got \(request.responses.count)")
        }
        if let empty = request.responses.firstIndex(where: \.isEmpty) {
            throw .invalidRequest(field: FieldPath("responses").index(empty), reason: "must not be empty")
        }
        let method = request.options.method
        guard info.methods.contains(method) else {
            throw .unsupportedMethod(method, reason: "the fake model has no head")
        }
        let normalization = request.options.normalization ?? (method == .likelihood ? .mean : Normalization.none)
        let rewards = request.responses.map(Self.reward)
        // A head: every label's output (the reward label first), like a converted reward model.
        let head = method == .classifier && !info.classifierLabels.isEmpty
        return ScoringResult.make(
            rewards: rewards, method: method, normalization: normalization,
            usage: TokenUsage.make(
                promptTokens: 10, responseTokens: request.responses.map { $0.split(separator: " ").count },
                computedTokens: 10),
            timings: Timings.make(queueMs: Self.queueMs, computeMs: Self.computeMs), contextKey: Self.contextKey,
            rewardVectors: head ? rewards.map { r in info.classifierLabels.indices.map { r + Double($0) } } : nil,
            labels: head ? info.classifierLabels : nil)
    }
}
