import Foundation
import HTTPParser

/// Response bodies of the routes other servers define, in those servers' shapes (openapi.json describes
/// each).
/// OpenAI's usage block, also what vLLM's pooling routes send (nothing generated there: 0 completion tokens).
struct CompatUsage: Encodable {
    var promptTokens: Int
    var completionTokens = 0
    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case totalTokens = "total_tokens"
    }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(promptTokens, forKey: .promptTokens)
        try c.encode(completionTokens, forKey: .completionTokens)
        try c.encode(promptTokens + completionTokens, forKey: .totalTokens)
    }
}

/// vLLM's list answer: `ClassificationResponse` (entries `ClassifyEntry`) and `ScoreResponse` (`PairScoreEntry`).
struct CompatListBody<Entry: Encodable>: Encodable {
    var id: String
    var object = "list"
    var created: Int
    var model: String
    var data: [Entry]
    var usage: CompatUsage
}

/// An entry of vLLM's `ClassificationResponse`.
struct ClassifyEntry: Encodable {
    var index: Int
    var label: String?
    var probs: [Double]
    enum CodingKeys: String, CodingKey {
        case index, label, probs
        case numClasses = "num_classes"
    }
    // `label` is always present (null without label names), as vLLM sends it.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(index, forKey: .index); try c.encode(label, forKey: .label)
        try c.encode(probs, forKey: .probs); try c.encode(probs.count, forKey: .numClasses)
    }
}

/// An entry of vLLM's `ScoreResponse`.
struct PairScoreEntry: Encodable {
    var index: Int
    var object = "score"
    var score: Double
}

/// Jina's, llama.cpp's and vLLM's rerank answer.
struct RerankResponseBody: Encodable {
    struct Document: Encodable { var text: String }
    struct Result: Encodable {
        var index: Int
        var relevanceScore: Double
        var document: Document?
        enum CodingKeys: String, CodingKey {
            case index, document
            case relevanceScore = "relevance_score"
        }
    }
    var id: String
    var model: String
    var results: [Result]
    var usage: CompatUsage
}

/// TEI's rerank answer is a bare array.
struct TEIRank: Encodable {
    var index: Int
    var score: Double
    var text: String?
}

/// What a reward model's outputs become when a client asks for an activation (vLLM's `use_activation`):
/// softmax over the labels when there are several, sigmoid for a single one. Without the switch, several
/// labels get the softmax (vLLM's default) and a single label stays raw: a softmax over one logit is 1.0
/// for every input, and a sigmoid would squash the reward a trainer wants as is.
enum Activation {
    static func apply(_ outputs: [Double], requested: Bool?) -> [Double] {
        guard requested ?? (outputs.count > 1) else { return outputs }
        if outputs.count == 1 { return [sigmoid(outputs[0])] }
        guard let top = outputs.max() else { return outputs }
        let exps = outputs.map { exp($0 - top) }
        let total = exps.reduce(0, +)
        return exps.map { $0 / total }
    }

    static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
}

/// An error on a route of vLLM's API: vLLM's own fields (`object`, `message`, `type`, `param`, `code`, what
/// its clients read) beside our `error` object, so clients of either kind find what they look for.
struct CompatErrorBody: Encodable {
    var message: String
    var type: String
    var param: String?
    var code: Int
    var error: ErrorBody.Detail

    enum CodingKeys: String, CodingKey { case object, message, type, param, code, error }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode("error", forKey: .object); try c.encode(message, forKey: .message)
        try c.encode(type, forKey: .type); try c.encode(param, forKey: .param)
        try c.encode(code, forKey: .code); try c.encode(error, forKey: .error)
    }
}

extension HTTPResponse {
    /// `error` with its status and headers (`HTTPResponse.error(_:)`), in the body `CompatErrorBody`.
    static func compatError(_ error: APIError) -> HTTPResponse {
        let plain = HTTPResponse.error(error)
        let detail = ErrorBody.Detail(type: error.type, message: error.message, field: error.field?.description)
        let body = CompatErrorBody(
            message: error.message, type: error.type, param: detail.field, code: error.status, error: detail)
        return .json(status: error.status, body, headers: plain.headers)
    }
}

/// vLLM's ids: a prefix and the request's id, so a client's log line leads to ours.
func compatID(_ prefix: String, _ requestID: String) -> String { "\(prefix)-\(requestID)" }

func unixSeconds() -> Int { Int(Date().timeIntervalSince1970) }
