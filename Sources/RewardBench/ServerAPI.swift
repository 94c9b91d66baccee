/// Request and reply bodies of the LongRM server's `/v1/pairwise` and `/v1/best-of-n`.
public struct ScoreRequest: Sendable, Equatable, Encodable {
    public var messages: [ChatMessage]
    public var responses: [String]
    public var method: String?
    /// likelihood: mean, sum or lift (context lift); classifier: none or sigmoid.
    public var normalize: String?
    public var truncation: String?
    public var timeoutMs: Int?
    /// Method judge: template name, `probability` | `generate`, generation cap.
    public var judgeTemplate: String?
    public var judgeMode: String?
    public var maxNewTokens: Int?

    public init(
        messages: [ChatMessage], responses: [String], method: String? = nil, normalize: String? = nil,
        truncation: String? = nil, timeoutMs: Int? = nil, judgeTemplate: String? = nil, judgeMode: String? = nil,
        maxNewTokens: Int? = nil
    ) {
        self.judgeTemplate = judgeTemplate
        self.judgeMode = judgeMode
        self.maxNewTokens = maxNewTokens
        self.messages = messages
        self.responses = responses
        self.method = method
        self.normalize = normalize
        self.truncation = truncation
        self.timeoutMs = timeoutMs
    }

    enum CodingKeys: String, CodingKey {
        case messages, responses, method, normalize, truncation
        case timeoutMs = "timeout_ms"
        case judgeTemplate = "judge_template"
        case judgeMode = "judge_mode"
        case maxNewTokens = "max_new_tokens"
    }

    // Optional fields are left out rather than sent as null: a strict server may reject nulls.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(messages, forKey: .messages)
        try container.encode(responses, forKey: .responses)
        try container.encodeIfPresent(method, forKey: .method)
        try container.encodeIfPresent(normalize, forKey: .normalize)
        try container.encodeIfPresent(truncation, forKey: .truncation)
        try container.encodeIfPresent(timeoutMs, forKey: .timeoutMs)
        try container.encodeIfPresent(judgeTemplate, forKey: .judgeTemplate)
        try container.encodeIfPresent(judgeMode, forKey: .judgeMode)
        try container.encodeIfPresent(maxNewTokens, forKey: .maxNewTokens)
    }
}

public struct PairwiseReply: Sendable, Equatable, Decodable {
    public var rewards: [Double]
    /// Position (in the order sent) of the preferred response.
    public var preferred: Int
    /// P(first response sent is better).
    public var probability: Double?
    public var margin: Double?
    /// Judge methods: whether both presentation orders agreed; null for the others.
    public var consistent: Bool?
    public var method: String?
    public var normalize: String?
    public var model: String?

    public init(
        rewards: [Double], preferred: Int, probability: Double? = nil, margin: Double? = nil,
        consistent: Bool? = nil, method: String? = nil, normalize: String? = nil, model: String? = nil
    ) {
        self.rewards = rewards
        self.preferred = preferred
        self.probability = probability
        self.margin = margin
        self.consistent = consistent
        self.method = method
        self.normalize = normalize
        self.model = model
    }
}

public struct BestOfNReply: Sendable, Equatable, Decodable {
    /// One reward per response, in the order sent.
    public var rewards: [Double]
    /// Positions (in the order sent), best first.
    public var ranking: [Int]
    public var best: Int
    public var method: String?
    public var normalize: String?
    public var model: String?

    public init(
        rewards: [Double], ranking: [Int], best: Int, method: String? = nil, normalize: String? = nil,
        model: String? = nil
    ) {
        self.rewards = rewards
        self.ranking = ranking
        self.best = best
        self.method = method
        self.normalize = normalize
        self.model = model
    }
}

/// The server's error body: `{"error":{"type":...,"message":...}}`.
struct ErrorReply: Decodable {
    struct Detail: Decodable {
        var type: String?
        var message: String?
    }
    var error: Detail
}
