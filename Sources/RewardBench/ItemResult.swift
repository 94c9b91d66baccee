/// One finished item: a line of the results JSONL. Everything the summary needs is here, so a summary
/// can be rebuilt from the results file alone.
public struct ItemResult: Sendable, Equatable, Codable {
    public var key: String
    public var id: String?
    public var task: String
    public var taskType: TaskType
    public var subtype: String?
    public var lengthBucket: String
    public var method: String?
    public var normalize: String?
    public var model: String?
    /// Original index of the response shown at each position.
    public var order: [Int]
    /// Rewards in the original order (chosen/best first).
    public var rewards: [Double]?
    /// Original indices, best first, as the server ranked them (PairWise: the preferred one first).
    public var ranking: [Int]?
    /// PairWise: 1 when chosen was preferred. BestOfN: fraction of positions ranked exactly right.
    public var score: Double?
    /// BestOfN: whole ranking right. PairWise: same as score == 1.
    public var exact: Bool?
    public var consistent: Bool?
    public var probability: Double?
    public var error: String?
    public var seconds: Double?

    public var failed: Bool { error != nil }

    public init(
        key: String, id: String?, task: String, taskType: TaskType, subtype: String?, lengthBucket: String,
        method: String? = nil, normalize: String? = nil, model: String? = nil, order: [Int], rewards: [Double]? = nil,
        ranking: [Int]? = nil, score: Double? = nil, exact: Bool? = nil, consistent: Bool? = nil,
        probability: Double? = nil, error: String? = nil, seconds: Double? = nil
    ) {
        self.key = key
        self.id = id
        self.task = task
        self.taskType = taskType
        self.subtype = subtype
        self.lengthBucket = lengthBucket
        self.method = method
        self.normalize = normalize
        self.model = model
        self.order = order
        self.rewards = rewards
        self.ranking = ranking
        self.score = score
        self.exact = exact
        self.consistent = consistent
        self.probability = probability
        self.error = error
        self.seconds = seconds
    }

    enum CodingKeys: String, CodingKey {
        case key, id, task, subtype, method, normalize, model, order, rewards, ranking, score, exact, consistent
        case probability, error, seconds
        case taskType = "tasktype"
        case lengthBucket = "ctx_length_for_length"
    }
}

public enum Grading {
    /// Fraction of positions where the predicted ranking (original indices, best first) matches the gold
    /// ranking 0, 1, 2, ... (the dataset stores candidates best first).
    public static func positionAccuracy(_ ranking: [Int]) -> Double {
        guard !ranking.isEmpty else { return 0 }
        let right = ranking.enumerated().filter { $0.offset == $0.element }.count
        return Double(right) / Double(ranking.count)
    }

    public static func result(for record: BenchRecord, presentation: Presentation, pairwise reply: PairwiseReply)
        -> ItemResult
    {
        let preferred = presentation.original(reply.preferred)
        // A judge whose two orders disagree answers a tie (equal rewards): not a correct pick, whichever
        // response the server lists as preferred.
        let tie = reply.rewards.count == 2 && reply.rewards[0] == reply.rewards[1]
        let score: Double = preferred == 0 && !tie ? 1 : 0
        // P(first shown is better) becomes P(chosen is better).
        let probability = reply.probability.map { presentation.order[0] == 0 ? $0 : 1 - $0 }
        return ItemResult(
            key: record.key, id: record.id, task: record.task, taskType: .pairWise, subtype: record.subtype,
            lengthBucket: record.lengthBucket, method: reply.method, normalize: reply.normalize, model: reply.model,
            order: presentation.order, rewards: presentation.restore(reply.rewards),
            ranking: [preferred, 1 - preferred], score: score, exact: score == 1, consistent: reply.consistent,
            probability: probability)
    }

    public static func result(for record: BenchRecord, presentation: Presentation, bestOfN reply: BestOfNReply)
        -> ItemResult
    {
        let ranking = reply.ranking.map { presentation.original($0) }
        let score = positionAccuracy(ranking)
        return ItemResult(
            key: record.key, id: record.id, task: record.task, taskType: .bestOfN, subtype: record.subtype,
            lengthBucket: record.lengthBucket, method: reply.method, normalize: reply.normalize, model: reply.model,
            order: presentation.order, rewards: presentation.restore(reply.rewards), ranking: ranking,
            score: score, exact: ranking == Array(0..<ranking.count))
    }

    public static func failure(for record: BenchRecord, presentation: Presentation, error: String) -> ItemResult {
        ItemResult(
            key: record.key, id: record.id, task: record.task, taskType: record.taskType, subtype: record.subtype,
            lengthBucket: record.lengthBucket, order: presentation.order, error: error)
    }
}
