import Foundation
import Synchronization

@testable import RewardBench

/// Builds one Long-RewardBench JSONL line.
func benchLine(
    id: Int? = nil, task: String = "LongQA", type: String? = "PairWise", bucket: String = "4k",
    chosen: String = "good", rejected: String = "bad", candidates: [String]? = nil, subtype: String? = nil,
    context: String = "Some long context."
) -> String {
    var fields: [String: JSONValue] = [
        "prompt_template": .array([
            .object(["role": .string("system"), "content": .string("Judge the answers.")]),
            .object(["role": .string("user"), "content": .string(context + "\nQuestion: what?")]),
        ]),
        "ctx_length_for_length": .string(bucket),
        "task": .string(task),
    ]
    if let id { fields["id"] = .number(Double(id)) }
    if let type { fields["tasktype"] = .string(type) }
    if let candidates {
        fields["candidates"] = .array(candidates.map { .string($0) })
    } else {
        fields["chosen"] = .string(chosen)
        fields["rejected"] = .string(rejected)
    }
    if let subtype { fields["subtype"] = .string(subtype) }
    return try! JSONValue.object(fields).jsonLine()
}

func records(_ lines: [String], name: String = "LongQA.jsonl") -> LoadedRecords {
    RecordLoader.load(data: Data(lines.joined(separator: "\n").utf8), name: name)
}

func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("rbtest-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// An in-memory server: prefers the response its `prefer` function picks (by text), ranks by a score.
final class FakeClient: RewardClient {
    let requests = Mutex<[ScoreRequest]>([])
    let score: @Sendable (String) -> Double
    let failWhen: @Sendable (ScoreRequest) -> Bool
    let method: String

    init(
        method: String = "likelihood", score: @escaping @Sendable (String) -> Double = { Double($0.count) },
        failWhen: @escaping @Sendable (ScoreRequest) -> Bool = { _ in false }
    ) {
        self.method = method
        self.score = score
        self.failWhen = failWhen
    }

    var sent: [ScoreRequest] { requests.withLock { $0 } }

    func pairwise(_ request: ScoreRequest) async throws -> PairwiseReply {
        requests.withLock { $0.append(request) }
        if failWhen(request) { throw ClientError.http(status: 400, type: "context_too_long", message: "too long") }
        let rewards = request.responses.map(score)
        return PairwiseReply(
            rewards: rewards, preferred: rewards[0] >= rewards[1] ? 0 : 1,
            probability: rewards[0] >= rewards[1] ? 0.8 : 0.2,
            consistent: method == "judge" ? true : nil, method: method, normalize: request.normalize, model: "fake")
    }

    func bestOfN(_ request: ScoreRequest) async throws -> BestOfNReply {
        requests.withLock { $0.append(request) }
        if failWhen(request) { throw ClientError.http(status: 400, type: "bad", message: "bad") }
        let rewards = request.responses.map(score)
        let ranking = rewards.indices.sorted { rewards[$0] > rewards[$1] }
        return BestOfNReply(rewards: rewards, ranking: ranking, best: ranking[0], method: method, model: "fake")
    }
}

/// Counts whitespace-separated words plus punctuation marks: deterministic, and (like a real tokenizer)
/// not exactly additive over joins.
struct WordTokenizer: TokenCounter {
    func count(_ text: String) -> Int {
        let words = text.split(whereSeparator: \.isWhitespace).count
        let marks = text.unicodeScalars.filter { ".,?!:;<>/".unicodeScalars.contains($0) }.count
        return words + marks
    }
}
