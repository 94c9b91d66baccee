/// What the HTTP API needs from the engine. `Scorer` is the real one; tests serve the API from a fake, so a
/// test about routing or a JSON error needs no model. A new endpoint adds its entry point here, with the
/// domain types it takes and returns.
public protocol ScoringService: Sendable {
    /// The model served and the engine's shape; fixed once loaded.
    var info: ServiceInfo { get }
    /// The engine queue now (for /ready and /metrics).
    var queue: QueueSnapshot { get }

    /// Two responses: rewards, the preferred one, P(first better) and the margin.
    func pairwise(_ request: ScoringRequest, deadline: ContinuousClock.Instant?) async throws(ScoringError)
        -> PairwiseResult
    /// 2…64 responses: rewards in input order, ranking and best index.
    func bestOfN(_ request: ScoringRequest, deadline: ContinuousClock.Instant?) async throws(ScoringError)
        -> ScoringResult
    /// 1…64 responses to one prompt, each on its own scale.
    func score(_ request: ScoringRequest, deadline: ContinuousClock.Instant?) async throws(ScoringError)
        -> ScoringResult
    /// OpenRLHF queries (prompt + response rendered by the policy's template) split into prompt and response:
    /// at `prompts` when given, else after the last assistant header the model's template knows.
    func rewardQueries(_ queries: [String], prompts: [String]?, method: ScoringMethod) throws(ScoringError)
        -> [RewardQueries.Item]
    /// Computes a context's prefix once and keeps it cached for `ttl` (`POST /v1/contexts`).
    func pin(_ input: PromptInput, method: ScoringMethod, ttl: Duration, deadline: ContinuousClock.Instant?)
        async throws(ScoringError) -> PinResult
    /// Ends a pin early; false when no such pin is live.
    func unpin(_ key: String) -> Bool
    var pinnedContexts: [PinnedContext] { get }
    /// Greedy chat completion (`/v1/chat/completions`) on the judge's generation batch (Completion.swift).
    func complete(_ request: CompletionRequest, deadline: ContinuousClock.Instant?) async throws(ScoringError)
        -> CompletionResult
    /// Stops the engine; queued requests fail with `cancelled`.
    func shutdown()
}

/// The model served and the engine around it, as `/v1/models` and `/metrics` show them.
public struct ServiceInfo: Sendable, Equatable {
    public var modelName: String
    /// Tokens one sequence may hold: the most context + prompt + response a request may use.
    public var window: Int
    public var trainedContext: Int
    /// Methods this model supports, in `ScoringMethod.allCases` order.
    public var methods: [ScoringMethod]
    public var classifierLabels: [String]
    /// The classifier label reported as `rewards` (the others are in the reward vectors); nil without a head.
    public var rewardLabel: String?
    public var hasChatTemplate: Bool
    public var engineWorkers: Int
    public var loadSeconds: Double
    /// What the KV cache costs and holds (bytes per token, contexts cached at once).
    public var kv: KVAccounting
    /// The llama.cpp CPU variant computing (e.g. `haswell`, `x64`).
    public var cpuVariant: String

    public init(
        modelName: String, window: Int, trainedContext: Int, methods: [ScoringMethod], classifierLabels: [String] = [],
        rewardLabel: String? = nil, hasChatTemplate: Bool = false, engineWorkers: Int = 1, loadSeconds: Double = 0,
        kv: KVAccounting? = nil, cpuVariant: String = "unknown"
    ) {
        self.modelName = modelName; self.window = window; self.trainedContext = trainedContext; self.methods = methods
        self.classifierLabels = classifierLabels; self.rewardLabel = rewardLabel; self.hasChatTemplate = hasChatTemplate
        self.engineWorkers = engineWorkers; self.loadSeconds = loadSeconds; self.cpuVariant = cpuVariant
        self.kv =
            kv
            ?? KVAccounting(
                bytesPerToken: 0, slidingBytesPerStream: 0, window: window, streamsPerWorker: 1,
                workers: engineWorkers)
    }

    /// The method a request gets when it names none (and the server sets no default): the model's classifier
    /// head when it has one, else likelihood.
    public var defaultMethod: ScoringMethod { methods.contains(.classifier) ? .classifier : .likelihood }
}

public typealias QueueSnapshot = EnginePool.Snapshot

extension EnginePool.Snapshot {
    /// A snapshot built by hand (another `ScoringService`: a test fake).
    public static func make(
        queuedRequests: Int = 0, queuedTokens: Int = 0, runningJobs: Int = 0, saturated: Bool = false,
        batches: Int = 0, batchedJobs: Int = 0, computedTokens: Int = 0, reusedTokens: Int = 0
    ) -> Self {
        Self(
            queuedRequests: queuedRequests, queuedTokens: queuedTokens, runningJobs: runningJobs, saturated: saturated,
            batches: batches, batchedJobs: batchedJobs, computedTokens: computedTokens, reusedTokens: reusedTokens)
    }
}

extension Scorer: ScoringService {
    public func rewardQueries(_ queries: [String], prompts: [String]?, method: ScoringMethod) throws(ScoringError)
        -> [RewardQueries.Item]
    {
        try RewardQueries.items(queries: queries, prompts: prompts, method: method, model: model)
    }

    public var info: ServiceInfo {
        ServiceInfo(
            modelName: model.name, window: window, trainedContext: model.trainedContext, methods: methods,
            classifierLabels: model.classifierLabels,
            rewardLabel: model.classifierLabels.indices.contains(rewardLabel)
                ? model.classifierLabels[rewardLabel] : nil,
            hasChatTemplate: model.chatTemplate != nil,
            engineWorkers: configuration.workers, loadSeconds: model.loadSeconds, kv: kv,
            cpuVariant: model.cpuVariant.name)
    }
}

// Public constructors for the result types, so another `ScoringService` (a test fake) can build them. Static
// functions over the memberwise initialisers, kept apart from the types: a field added to a type with a default
// value needs no change here.
extension ScoringResult {
    public static func make(
        rewards: [Double], method: ScoringMethod, normalization: Normalization, usage: TokenUsage,
        timings: Timings, judgeProbability: Double? = nil, consistent: Bool? = nil,
        contextKey: String, rewardVectors: [[Double]]? = nil, labels: [String]? = nil,
        stepRewards: [[Double]]? = nil
    ) -> ScoringResult {
        ScoringResult(
            rewards: rewards, method: method, normalization: normalization, usage: usage, timings: timings,
            judgeProbability: judgeProbability, consistent: consistent, contextKey: contextKey,
            rewardVectors: rewardVectors, labels: labels, stepRewards: stepRewards)
    }
}

extension PairwiseResult {
    public static func make(result: ScoringResult, preferred: Int, probability: Double, margin: Double)
        -> PairwiseResult
    {
        PairwiseResult(result: result, preferred: preferred, probability: probability, margin: margin)
    }
}

extension TokenUsage {
    public static func make(
        promptTokens: Int, responseTokens: [Int], reusedPromptTokens: Int = 0, computedTokens: Int = 0,
        truncatedTokens: Int = 0
    ) -> TokenUsage {
        TokenUsage(
            promptTokens: promptTokens, responseTokens: responseTokens, reusedPromptTokens: reusedPromptTokens,
            computedTokens: computedTokens, truncatedTokens: truncatedTokens)
    }
}

extension PinResult {
    public static func make(context: PinnedContext, reusedTokens: Int, computedTokens: Int, timings: Timings)
        -> PinResult
    {
        PinResult(context: context, reusedTokens: reusedTokens, computedTokens: computedTokens, timings: timings)
    }
}

extension Timings {
    public static func make(queueMs: Double, computeMs: Double) -> Timings {
        Timings(queueMs: queueMs, computeMs: computeMs)
    }
}
