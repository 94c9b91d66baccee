import Scoring

/// Response bodies of the scoring endpoints, exactly as openapi.json describes them.
struct UsageBody: Encodable, Equatable {
    var promptTokens: Int
    var responseTokens: [Int]
    var reusedPromptTokens: Int
    var computedTokens: Int
    var truncatedTokens: Int

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case responseTokens = "response_tokens"
        case reusedPromptTokens = "reused_prompt_tokens"
        case computedTokens = "computed_tokens"
        case truncatedTokens = "truncated_tokens"
    }

    init(_ usage: TokenUsage) {
        promptTokens = usage.promptTokens; responseTokens = usage.responseTokens
        reusedPromptTokens = usage.reusedPromptTokens; computedTokens = usage.computedTokens
        truncatedTokens = usage.truncatedTokens
    }

    init(summing usages: [TokenUsage], responseTokens: [Int]) {
        promptTokens = usages.reduce(0) { $0 + $1.promptTokens }
        self.responseTokens = responseTokens
        reusedPromptTokens = usages.reduce(0) { $0 + $1.reusedPromptTokens }
        computedTokens = usages.reduce(0) { $0 + $1.computedTokens }
        truncatedTokens = usages.reduce(0) { $0 + $1.truncatedTokens }
    }
}

struct TimingsBody: Encodable, Equatable {
    var queueMs: Double
    var computeMs: Double
    enum CodingKeys: String, CodingKey {
        case queueMs = "queue_ms"
        case computeMs = "compute_ms"
    }

    init(queueMs: Double, computeMs: Double) { self.queueMs = queueMs; self.computeMs = computeMs }
    init(_ t: Timings) { self.init(queueMs: t.queueMs, computeMs: t.computeMs) }
}

struct PairwiseResponseBody: Encodable {
    var rewards: [Double]
    var preferred: Int
    var probability: Double
    var margin: Double
    var consistent: Bool?
    var method: String
    var normalize: String
    var model: String
    var contextKey: String
    var usage: UsageBody
    var timings: TimingsBody
    var judge: JudgeBody?
    var head: HeadOutputBody?

    enum CodingKeys: String, CodingKey {
        case rewards, preferred, probability, margin, consistent, method, normalize, model, usage, timings, judge
        case contextKey = "context_key"
    }

    // `consistent` is always present: null unless the judge ran both orders.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(rewards, forKey: .rewards); try c.encode(preferred, forKey: .preferred)
        try c.encode(probability, forKey: .probability); try c.encode(margin, forKey: .margin)
        try c.encode(consistent, forKey: .consistent); try c.encode(method, forKey: .method)
        try c.encode(normalize, forKey: .normalize); try c.encode(model, forKey: .model)
        try c.encode(contextKey, forKey: .contextKey); try c.encode(usage, forKey: .usage)
        try c.encode(timings, forKey: .timings)
        try c.encodeIfPresent(judge, forKey: .judge)
        try head?.encode(to: encoder)
    }
}

/// Classifier outputs beyond the scalar reward: every label per response, and the reward label at each step
/// separator when `step_rewards` was asked. Flattened into the response object.
struct HeadOutputBody: Encodable, Equatable {
    var labels: [String]
    var rewardVectors: [[Double]]
    var stepRewards: [[Double]]?

    enum CodingKeys: String, CodingKey {
        case labels
        case rewardVectors = "reward_vectors"
        case stepRewards = "step_rewards"
    }

    init?(_ result: ScoringResult) {
        guard let labels = result.labels, let vectors = result.rewardVectors else { return nil }
        self.labels = labels
        rewardVectors = vectors.map(finite)
        stepRewards = result.stepRewards?.map(finite)
    }

    init(labels: [String], rewardVectors: [[Double]], stepRewards: [[Double]]?) {
        self.labels = labels; self.rewardVectors = rewardVectors.map(finite);
        self.stepRewards = stepRewards?.map(finite)
    }
}

struct BestOfNResponseBody: Encodable {
    var rewards: [Double]
    var ranking: [Int]
    var best: Int
    var method: String
    var normalize: String
    var model: String
    var contextKey: String
    var usage: UsageBody
    var timings: TimingsBody
    var judge: JudgeBody?
    var head: HeadOutputBody?

    enum CodingKeys: String, CodingKey {
        case rewards, ranking, best, method, normalize, model, usage, timings, judge
        case contextKey = "context_key"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(rewards, forKey: .rewards); try c.encode(ranking, forKey: .ranking);
        try c.encode(best, forKey: .best)
        try c.encode(method, forKey: .method); try c.encode(normalize, forKey: .normalize);
        try c.encode(model, forKey: .model)
        try c.encode(contextKey, forKey: .contextKey); try c.encode(usage, forKey: .usage);
        try c.encode(timings, forKey: .timings)
        try c.encodeIfPresent(judge, forKey: .judge)
        try head?.encode(to: encoder)
    }
}

/// Method judge: the template, the mode, and every prompt's verdict (`verdict: null` with a `reason` when
/// none could be read: never an error status).
struct JudgeBody: Encodable {
    struct Verdict: Encodable {
        var verdict: JudgeVerdict
        enum CodingKeys: String, CodingKey {
            case shown, verdict, reason, text, stop
            case generatedTokens = "generated_tokens"
        }
        // `verdict` and `reason` are always present (null when absent); generation fields only in that mode.
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(verdict.shown, forKey: .shown)
            try c.encode(verdict.verdict, forKey: .verdict)
            try c.encode(verdict.reason, forKey: .reason)
            try c.encodeIfPresent(verdict.text, forKey: .text)
            try c.encodeIfPresent(verdict.generatedTokens, forKey: .generatedTokens)
            try c.encodeIfPresent(verdict.stop, forKey: .stop)
        }
    }
    var template: String
    var mode: String
    var consistent: Bool?
    var verdicts: [Verdict]

    init?(_ report: JudgeReport?) {
        guard let report else { return nil }
        template = report.template
        mode = report.mode.rawValue
        consistent = report.consistent
        verdicts = report.verdicts.map(Verdict.init)
    }

    enum CodingKeys: String, CodingKey { case template, mode, consistent, verdicts }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(template, forKey: .template); try c.encode(mode, forKey: .mode)
        try c.encode(consistent, forKey: .consistent); try c.encode(verdicts, forKey: .verdicts)
    }
}

struct ScoreResponseBody: Encodable {
    var rewards: [Double]
    var method: String
    var normalize: String
    var model: String
    var usage: UsageBody
    var timings: TimingsBody
    var head: HeadOutputBody?
    var judge: JudgeBody?

    enum CodingKeys: String, CodingKey { case rewards, method, normalize, model, usage, timings, judge }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(rewards, forKey: .rewards); try c.encode(method, forKey: .method)
        try c.encode(normalize, forKey: .normalize); try c.encode(model, forKey: .model)
        try c.encode(usage, forKey: .usage); try c.encode(timings, forKey: .timings)
        try c.encodeIfPresent(judge, forKey: .judge)
        try head?.encode(to: encoder)
    }
}

struct GetRewardResponseBody: Encodable {
    var rewards: [Double]
    var scores: [Double]
    var extraLogs: [String: [Double]]
    enum CodingKeys: String, CodingKey {
        case rewards, scores
        case extraLogs = "extra_logs"
    }
}

struct ModelsResponseBody: Encodable {
    struct Entry: Encodable {
        var id: String
        var object = "model"
        var contextWindow: Int
        var trainedContext: Int
        var methods: [String]
        var defaultMethod: String
        var classifierLabels: [String]
        var rewardLabel: String?
        var chatTemplate: Bool
        var kv: KV
        var cpuVariant: String
        enum CodingKeys: String, CodingKey {
            case id, object, methods, kv
            case contextWindow = "context_window"
            case trainedContext = "trained_context"
            case defaultMethod = "default_method"
            case classifierLabels = "classifier_labels"
            case chatTemplate = "chat_template"
            case rewardLabel = "reward_label"
            case cpuVariant = "cpu_variant"
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id); try c.encode(object, forKey: .object);
            try c.encode(methods, forKey: .methods)
            try c.encode(contextWindow, forKey: .contextWindow); try c.encode(trainedContext, forKey: .trainedContext)
            try c.encode(defaultMethod, forKey: .defaultMethod);
            try c.encode(classifierLabels, forKey: .classifierLabels)
            try c.encode(rewardLabel, forKey: .rewardLabel); try c.encode(chatTemplate, forKey: .chatTemplate)
            try c.encode(cpuVariant, forKey: .cpuVariant)
            try c.encode(kv, forKey: .kv)
        }
    }

    /// The engine's KV accounting (`KVAccounting`), as `GET /v1/models` shows it.
    struct KV: Encodable {
        var bytesPerToken: Int
        var bytesPerContext: Int
        var largestContext: Int
        var contextsPerWorker: Int
        var workers: Int
        var totalBytes: Int
        var cacheType: String
        enum CodingKeys: String, CodingKey {
            case workers
            case cacheType = "cache_type"
            case bytesPerToken = "bytes_per_token"
            case bytesPerContext = "bytes_per_context"
            case largestContext = "largest_context"
            case contextsPerWorker = "contexts_per_worker"
            case totalBytes = "total_bytes"
        }
    }
    var object = "list"
    var data: [Entry]
}

struct ReadyResponseBody: Encodable {
    var status: String
    var queuedRequests: Int
    var runningJobs: Int
    enum CodingKeys: String, CodingKey {
        case status
        case queuedRequests = "queued_requests"
        case runningJobs = "running_jobs"
    }
}

/// JSON cannot carry NaN or infinity; a non-finite reward (a token the model gives probability 0) is
/// reported as the most negative finite value instead of failing the whole response.
func finite(_ values: [Double]) -> [Double] { values.map(finite) }
func finite(_ value: Double) -> Double {
    value.isFinite ? value : (value > 0 ? Double.greatestFiniteMagnitude : -Double.greatestFiniteMagnitude)
}
