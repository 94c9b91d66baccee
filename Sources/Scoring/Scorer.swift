import Foundation

/// The scoring entry points: pairwise, Best-of-N and pointwise. Plans a request, runs it on the engine
/// pool, turns engine outputs into rewards.
public final class Scorer: Sendable {
    public let model: Model
    public let configuration: EngineConfiguration
    /// Tokens one sequence may hold: the most context + prompt + response a request may use.
    public let window: Int
    /// What the KV cache costs and holds (bytes per token, contexts cached at once).
    public let kv: KVAccounting
    /// Judge templates and generation limits (`--judge-template`, `--judge-max-new-tokens`).
    public let judge: JudgeConfiguration
    /// The classifier label reported as `rewards` (the others are in `rewardVectors`).
    public let rewardLabel: Int
    let pool: EnginePool

    private init(
        model: Model, configuration: EngineConfiguration, kv: KVAccounting, judge: JudgeConfiguration, rewardLabel: Int,
        pool: EnginePool
    ) {
        self.model = model
        self.configuration = configuration
        self.judge = judge
        window = configuration.window(for: model)
        self.kv = kv
        self.rewardLabel = rewardLabel
        self.pool = pool
    }

    public static func load(
        modelPath: String, configuration: EngineConfiguration = EngineConfiguration(),
        queueLimits: EnginePool.QueueLimits = EnginePool.QueueLimits(),
        judge: JudgeConfiguration = JudgeConfiguration()
    ) async throws(ScoringError) -> Scorer {
        let requested = try configuration.validated()
        // Loading reads hundreds of MiB and blocks for seconds: on a thread of its own, never on the
        // cooperative pool that serves requests (a server that loads a second model stays responsive).
        let loaded: Result<Model, ScoringError> = await withCheckedContinuation { continuation in
            Thread {
                do throws(ScoringError) {
                    continuation.resume(
                        returning: .success(
                            try Model(
                                path: modelPath, useExtraBuffers: requested.repackWeights,
                                gpuLayers: requested.gpuLayers)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }.start()
        }
        let model = try loaded.get()
        var configuration = requested
        let rewardLabel = try configuration.rewardLabelIndex(labels: model.classifierLabels)
        let kv = try sizeCache(model: model, configuration: &configuration)
        do {
            let pool = try await EnginePool.start(model: model, configuration: configuration, limits: queueLimits)
            return Scorer(
                model: model, configuration: configuration, kv: kv, judge: judge, rewardLabel: rewardLabel, pool: pool)
        } catch let error as ScoringError {
            throw error
        } catch {
            throw .engineFailure("\(error)")
        }
    }

    /// Measures the model's KV cost and, with a budget, sets how many contexts each worker caches. A budget
    /// that cannot hold two windows per worker (a context, and a stream for its next level or a long
    /// candidate) is refused here, with the figure it would need, rather than failing or swapping later.
    static func sizeCache(model: Model, configuration: inout EngineConfiguration) throws(ScoringError) -> KVAccounting {
        var kv = try KVAccounting.measure(model: model, configuration: configuration)
        guard let budget = configuration.kvBudget, model.isCausal else { return kv }
        let streams = kv.streams(forBudget: budget.bytes(kv))
        guard streams >= 2 else {
            let needed = (2 + kv.generationStreams) * kv.bytesPerStream * kv.workers
            throw .invalidRequest(
                field: "kv-budget",
                reason: "\(budget) of KV holds \(max(0, streams)) context(s) of \(kv.window) tokens "
                    + "(\(Bytes.text(kv.bytesPerStream)) each with this model) per worker; at least 2 per worker are needed: "
                    + "--kv-budget \(needed / (1 << 20))MiB (\((2 + kv.generationStreams) * kv.window * kv.workers) tokens"
                    + (kv.generationStreams > 0 ? ", with \(kv.generationStreams) --judge-sequences" : "")
                    + "), or a smaller --ctx-size")
        }
        configuration.cacheSlots = min(streams, 64)
        kv.streamsPerWorker = configuration.cacheSlots
        return kv
    }

    public var methods: [ScoringMethod] {
        ScoringMethod.allCases.filter { method in
            switch method {
            // A converted sequence classifier has no trained language-model head: only its score head means anything.
            case .likelihood: return model.isCausal && model.head == nil
            case .classifier: return model.classifierOutputs > 0
            case .judge: return model.isCausal && model.head == nil
            }
        }
    }

    /// A plan on the engine, its errors as `ScoringError` (a cancelled task is `cancelled`).
    func runOnPool(_ plan: JobPlan, contextKey: String, deadline: ContinuousClock.Instant?) async throws(ScoringError)
        -> EnginePool.Completed
    {
        do {
            return try await pool.run(plan, contextKey: contextKey, deadline: deadline)
        } catch let error as ScoringError {
            throw error
        } catch is CancellationError {
            throw .cancelled
        } catch {
            throw .engineFailure("\(error)")
        }
    }

    public var queue: EnginePool.Snapshot { pool.snapshot }
    public func shutdown() { pool.stop() }

    /// Two responses: rewards, the preferred one, P(first better) and the margin. The judge runs both
    /// orders and averages them (position-swap consistency).
    public func pairwise(_ request: ScoringRequest, deadline: ContinuousClock.Instant? = nil) async throws(ScoringError)
        -> PairwiseResult
    {
        guard request.responses.count == 2 else {
            throw .invalidRequest(
                field: "responses", reason: "pairwise needs exactly 2 responses, got \(request.responses.count)")
        }
        let result = try await run(request, pairwise: true, deadline: deadline)
        let margin = result.rewards[0] - result.rewards[1]
        let probability = result.judgeProbability ?? 1 / (1 + exp(-margin))
        return PairwiseResult(
            result: result, preferred: result.rewards[0] >= result.rewards[1] ? 0 : 1,
            probability: probability, margin: margin)
    }

    /// 2…64 responses: rewards in input order, ranking and best index.
    public func bestOfN(_ request: ScoringRequest, deadline: ContinuousClock.Instant? = nil) async throws(ScoringError)
        -> ScoringResult
    {
        guard request.responses.count >= 2 else {
            throw .invalidRequest(
                field: "responses",
                reason: "best-of-n needs 2…\(ScoringLimits.maxResponses) responses, got \(request.responses.count)")
        }
        return try await run(request, pairwise: false, deadline: deadline)
    }

    /// Any number of responses (1…64) to one prompt, each scored on its own scale (judge: 0–9 rating).
    public func score(_ request: ScoringRequest, deadline: ContinuousClock.Instant? = nil) async throws(ScoringError)
        -> ScoringResult
    {
        try await run(request, pairwise: false, pointwise: true, deadline: deadline)
    }

    private func run(
        _ request: ScoringRequest, pairwise: Bool, pointwise: Bool = false,
        deadline: ContinuousClock.Instant?
    ) async throws(ScoringError) -> ScoringResult {
        var planned = try Planner(model: model, window: window, judge: judge).plan(
            request, pairwise: pairwise, pointwise: pointwise)
        if planned.plan.generates && configuration.generationSequences < 1 {
            throw .invalidRequest(
                field: "judge_mode", reason: "this server has no sequences for generation (--judge-sequences 0)")
        }
        if !configuration.sharePrefix { planned.plan = planned.plan.unshared() }
        let completed = try await runOnPool(planned.plan, contextKey: planned.contextKey, deadline: deadline)
        let outcome = completed.outcome
        var result = ScoringResult(
            rewards: [], method: request.options.method, normalization: planned.normalization,
            usage: TokenUsage(
                promptTokens: planned.plan.groups[0].prefixCount, responseTokens: planned.responseTokens,
                reusedPromptTokens: outcome.reusedTokens, computedTokens: outcome.computedTokens,
                truncatedTokens: planned.truncatedTokens),
            timings: Timings(queueMs: completed.queueMs, computeMs: completed.computeMs),
            judgeProbability: nil, consistent: nil, contextKey: planned.contextKey)
        switch request.options.method {
        case .likelihood:
            let withContext = outcome.groups[0].values.map {
                RewardMath.aggregate($0, sum: planned.normalization == .sum)
            }
            if planned.normalization == .lift {
                let without = outcome.groups[1].values.map { RewardMath.aggregate($0, sum: false) }
                result.rewards = zip(withContext, without).map { $0 - $1 }
            } else {
                result.rewards = withContext
            }
        case .classifier:
            let read = HeadReadout(
                plan: planned.plan.groups[0], values: outcome.groups[0].values, labels: model.classifierOutputs,
                head: model.head, stepSeparator: request.options.stepRewards ? model.stepSeparatorToken : nil)
            let sigmoid = planned.normalization == .sigmoid
            func shown(_ x: Double) -> Double { sigmoid ? RewardMath.sigmoid(x) : x }
            result.rewardVectors = read.finals.map { $0.map(shown) }
            result.rewards = read.finals.map { shown($0[min(rewardLabel, $0.count - 1)]) }
            result.labels = model.classifierLabels
            if request.options.stepRewards {
                result.stepRewards = read.steps.map { $0.map { shown($0[rewardLabel]) } }
            }
        case .judge:
            // Every judge plan carries its run (Planner+Judge.swift); rewards in JudgeScoring.swift.
            guard let run = planned.judge else { throw .engineFailure("judge plan without its prompts") }
            let judged = JudgeScoring.score(run, outcome: outcome, pairwise: pairwise)
            result.rewards = judged.rewards
            result.judgeProbability = judged.probability
            result.consistent = judged.report.consistent
            result.judge = judged.report
        }
        return result
    }
}

/// Reward arithmetic, kept pure for tests.
public enum RewardMath {
    static func aggregate(_ logProbs: [Float], sum: Bool) -> Double {
        guard !logProbs.isEmpty else { return 0 }
        let total = logProbs.reduce(0.0) { $0 + Double($1) }
        return sum ? total : total / Double(logProbs.count)
    }

    public static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

    /// Probabilities renormalised over the candidate labels.
    static func normalized(_ logProbs: [Float]) -> [Double] {
        let maximum = Double(logProbs.max() ?? 0)
        let weights = logProbs.map { exp(Double($0) - maximum) }
        let total = weights.reduce(0, +)
        return weights.map { $0 / total }
    }

    /// Order 1 shows (first, second) as (A, B); order 2 shows (second, first). P(first better) is P(A) in
    /// order 1 and P(B) in order 2; when both favour the same response it is their mean, else a tie (0.5).
    public static func swapAveraged(firstOrder: [Float], secondOrder: [Float]) -> (
        probabilityFirst: Double, consistent: Bool
    ) {
        let swapped = JudgeScoring.swapRule(normalized(firstOrder)[0], normalized(secondOrder)[1])
        return (swapped.probability, swapped.consistent)
    }

    /// Expected value of a 0…9 rating from the digit tokens' probabilities.
    static func expectedRating(_ digitLogProbs: [Float]) -> Double {
        normalized(digitLogProbs).enumerated().reduce(0) { $0 + Double($1.offset) * $1.element }
    }
}
