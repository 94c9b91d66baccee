/// How a reward is computed. Every method returns one reward per response; higher is better.
public enum ScoringMethod: String, Sendable, CaseIterable, Codable {
    /// Mean (or summed) log-probability of the response tokens given context and prompt.
    case likelihood
    /// The model's classifier head (rank pooling) at the end of prompt + response.
    case classifier
    /// Generative judge: verdict-token probabilities at the answer position, no sampling.
    case judge
}

/// How the likelihood method aggregates token log-probabilities; how the classifier's raw score is shown.
public enum Normalization: String, Sendable, CaseIterable, Codable {
    /// likelihood: mean log-probability per response token (default).
    case mean
    /// likelihood: summed log-probability.
    case sum
    /// likelihood: mean log-probability with the context minus the same without it ("context lift").
    case lift
    /// classifier: raw head output (default).
    case none
    /// classifier: sigmoid of the head output.
    case sigmoid

    func isValid(for method: ScoringMethod) -> Bool {
        switch method {
        case .likelihood: return [.mean, .sum, .lift].contains(self)
        case .classifier: return [.none, .sigmoid].contains(self)
        case .judge: return self == .none
        }
    }

    static func defaultFor(_ method: ScoringMethod) -> Normalization {
        method == .likelihood ? .mean : .none
    }
}

/// What to do with a context that does not fit the window.
public enum Truncation: String, Sendable, CaseIterable, Codable {
    /// Refuse with `ScoringError.contextTooLong`.
    case none
    /// Keep the head and the tail of the context (Long-RewardBench's rule); responses are never cut.
    case middle
}

public struct ChatMessage: Sendable, Equatable, Codable {
    public var role: String
    public var content: String
    public init(role: String, content: String) { self.role = role; self.content = content }
}

/// The conversation a response answers: chat messages, or a long context plus a prompt.
public enum PromptInput: Sendable, Equatable {
    case messages([ChatMessage])
    case contextPrompt(context: String, prompt: String)
    /// Already rendered text (OpenRLHF sends prompt+response rendered with the policy's chat template).
    case raw(String)
}

public struct ScoringOptions: Sendable, Equatable {
    public var method: ScoringMethod
    public var normalization: Normalization?
    public var truncation: Truncation
    /// Method `judge`: template, probability or generation mode (Sources/Scoring/JudgeOptions.swift).
    public var judge: JudgeOptions
    /// classifier with a step separator (process reward models): also the head at every separator.
    public var stepRewards: Bool
    public init(
        method: ScoringMethod = .likelihood, normalization: Normalization? = nil, truncation: Truncation = .none,
        stepRewards: Bool = false, judge: JudgeOptions = JudgeOptions()
    ) {
        self.method = method; self.normalization = normalization; self.truncation = truncation
        self.stepRewards = stepRewards; self.judge = judge
    }
}

/// One scoring request: a prompt and 1…64 responses to judge against it.
public struct ScoringRequest: Sendable, Equatable {
    public var input: PromptInput
    public var responses: [String]
    public var options: ScoringOptions
    public init(input: PromptInput, responses: [String], options: ScoringOptions = ScoringOptions()) {
        self.input = input; self.responses = responses; self.options = options
    }
}

public struct TokenUsage: Sendable, Equatable, Codable {
    /// Tokens of the shared prefix (context + prompt, or the judge prompt's shared part).
    public var promptTokens: Int
    public var responseTokens: [Int]
    /// Prefix tokens whose KV cache came from an earlier request.
    public var reusedPromptTokens: Int
    /// Tokens actually run through the model for this request.
    public var computedTokens: Int
    /// Context tokens removed by `truncation: middle`.
    public var truncatedTokens: Int
}

public struct Timings: Sendable, Equatable, Codable {
    public var queueMs: Double
    public var computeMs: Double
}

/// Rewards in input order plus what callers derive from them.
public struct ScoringResult: Sendable, Equatable {
    public var rewards: [Double]
    public var method: ScoringMethod
    public var normalization: Normalization
    public var usage: TokenUsage
    public var timings: Timings
    /// Judge pairwise only: P(first better) averaged over both orders, and whether both orders agree.
    public var judgeProbability: Double?
    public var consistent: Bool?
    /// Judge only: template, mode and the verdict of every prompt.
    public var judge: JudgeReport? = nil
    /// Hash of the tokenised shared prefix: equal keys share a KV cache.
    public var contextKey: String
    /// classifier: every label's output per response (`rewards` holds the reward label's), and the label names.
    public var rewardVectors: [[Double]]? = nil
    public var labels: [String]? = nil
    /// classifier with `stepRewards`: the reward label's output at each step separator, per response.
    public var stepRewards: [[Double]]? = nil

    /// Indices, best first; ties keep input order.
    public var ranking: [Int] {
        rewards.indices.sorted { rewards[$0] > rewards[$1] || rewards[$0] == rewards[$1] && $0 < $1 }
    }
    public var best: Int { ranking.first ?? 0 }
}

public struct PairwiseResult: Sendable, Equatable {
    public var result: ScoringResult
    public var preferred: Int
    /// P(first response better): Bradley–Terry sigmoid(r0 − r1), or the judge's swap-averaged probability.
    public var probability: Double
    public var margin: Double
}

public enum ScoringError: Error, Sendable, Equatable {
    /// The request is invalid; `field` names the part at fault.
    case invalidRequest(field: FieldPath, reason: String)
    /// The engine settings are invalid (caught before a model is loaded).
    case invalidConfiguration(String)
    case contextTooLong(needed: Int, available: Int)
    case unsupportedMethod(ScoringMethod, reason: String)
    case modelLoadFailed(String)
    case overloaded(retryAfterSeconds: Int)
    /// Pinned contexts already hold what the KV budget allows (`POST /v1/contexts`).
    case storageFull(String)
    case timedOut
    case cancelled
    case engineFailure(String)

    public var message: String {
        switch self {
        case .invalidRequest(let field, let reason): return "\(field): \(reason)"
        case .invalidConfiguration(let reason): return "invalid engine configuration: \(reason)"
        case .contextTooLong(let needed, let available):
            return
                "input needs \(needed) tokens but the window holds \(available); shorten the context or send \"truncation\": \"middle\""
        case .unsupportedMethod(let method, let reason): return "method \(method.rawValue) is not available: \(reason)"
        case .modelLoadFailed(let s): return s
        case .overloaded(let s): return "the scoring queue is full; retry in \(s) s"
        case .storageFull(let s): return s
        case .timedOut: return "the request's deadline passed before scoring finished"
        case .cancelled: return "the request was cancelled"
        case .engineFailure(let s): return "engine failure: \(s)"
        }
    }
}

public enum ScoringLimits {
    public static let maxResponses = 64
}
