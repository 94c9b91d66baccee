import Foundation
import Scoring

/// Request bodies of the routes other servers define (vLLM `/classify` and `/score`, Jina/llama.cpp/TEI
/// `/rerank`). Their clients send fields of those servers that we do not use (`user`, `priority`,
/// `truncate`…), so unknown fields are ignored, as those servers do; a known field of the wrong type is
/// refused by name.
enum CompatFields {
    /// A string or an array of strings (vLLM's `str | list[str]`), as an array; nil when absent or null.
    static func texts(_ c: KeyedDecodingContainer<AnyKey>, _ key: String) throws -> [String]? {
        let k = AnyKey(key)
        guard c.contains(k), try !c.decodeNil(forKey: k) else { return nil }
        if let one = try? c.decode(String.self, forKey: k) { return [one] }
        do {
            return try c.decode([String].self, forKey: k)
        } catch DecodingError.typeMismatch(_, let context) where context.codingPath.count == 1 {
            throw APIError.badRequest("expected a string or an array of strings", field: FieldPath(key))
        }
    }

    /// vLLM's activation switch under its three names (`use_activation`, and the older `activation` and
    /// `softmax`); nil when none is sent.
    static func activation(_ c: KeyedDecodingContainer<AnyKey>) throws -> Bool? {
        var chosen: Bool?
        for key in ["use_activation", "activation", "softmax"] {
            guard let value = try c.decodeIfPresent(Bool.self, forKey: AnyKey(key)) else { continue }
            if let chosen, chosen != value {
                throw APIError.badRequest("contradicts another activation field", field: FieldPath(key))
            }
            chosen = value
        }
        return chosen
    }

    /// A non-negative integer field (decoded as a number: Foundation reports 2.5-for-an-Int without the field).
    static func count(_ c: KeyedDecodingContainer<AnyKey>, _ key: String) throws -> Int? {
        guard let n = try c.decodeIfPresent(Double.self, forKey: AnyKey(key)) else { return nil }
        guard n == n.rounded(), n >= 0 else {
            throw APIError.badRequest("expected a non-negative integer", field: FieldPath(key))
        }
        // Beyond any real count: a huge `top_n` keeps everything, a huge `max_tokens` meets its cap.
        return n < Double(countCeiling) ? Int(n) : countCeiling
    }

    static let countCeiling = 1_000_000_000

    /// Refuses empty texts: an empty response has nothing to score.
    static func nonEmpty(_ texts: [String], field: String) throws(APIError) {
        if let i = texts.firstIndex(where: \.isEmpty) {
            throw .badRequest("must not be empty", field: FieldPath(field).index(i))
        }
    }
}

/// POST /classify, /v1/classify (vLLM). `input`: whole texts, already rendered with the reward model's chat
/// template, split like `/get_reward`'s `query`.
struct ClassifyBody: Decodable {
    var model: String?
    var input: [String]
    var activation: Bool?

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        model = try c.decodeIfPresent(String.self, forKey: AnyKey("model"))
        guard let input = try CompatFields.texts(c, "input") else {
            throw APIError.badRequest("required field is missing", field: "input")
        }
        try CompatFields.nonEmpty(input, field: "input")
        self.input = input
        activation = try CompatFields.activation(c)
    }
}

/// POST /score (vLLM): `text_1` (prompts) against `text_2` (responses), 1:1, 1:N or N:N.
struct PairScoreBody: Decodable {
    var model: String?
    var pairs: [(prompt: String, response: String)]
    var activation: Bool?

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        model = try c.decodeIfPresent(String.self, forKey: AnyKey("model"))
        guard let first = try CompatFields.texts(c, "text_1") else {
            throw APIError.badRequest("required field is missing", field: "text_1")
        }
        guard let second = try CompatFields.texts(c, "text_2") else {
            throw APIError.badRequest("required field is missing", field: "text_2")
        }
        guard !first.isEmpty else { throw APIError.badRequest("must hold at least one text", field: "text_1") }
        guard !second.isEmpty else { throw APIError.badRequest("must hold at least one text", field: "text_2") }
        guard first.count == 1 || first.count == second.count else {
            throw APIError.badRequest(
                "text_1 and text_2 must pair 1:1, 1:N or N:N; got \(first.count) and \(second.count)",
                field: "text_2")
        }
        try CompatFields.nonEmpty(first, field: "text_1")
        try CompatFields.nonEmpty(second, field: "text_2")
        pairs = second.enumerated().map { (first.count == 1 ? first[0] : first[$0], $1) }
        activation = try CompatFields.activation(c)
    }
}

/// POST /rerank, /v1/rerank: Jina/llama.cpp/vLLM (`documents`, `top_n`, `return_documents`) or TEI (`texts`,
/// `raw_scores`, `return_text`). Which list was sent decides the answer's shape.
struct RerankBody: Decodable {
    enum Flavour { case jina, tei }

    var model: String?
    var query: String
    var documents: [String]
    var flavour: Flavour
    var topN: Int?
    var returnDocuments: Bool
    var rawScores: Bool
    var activation: Bool?

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        model = try c.decodeIfPresent(String.self, forKey: AnyKey("model"))
        query = try c.decode(String.self, forKey: AnyKey("query"))
        guard !query.isEmpty else { throw APIError.badRequest("must not be empty", field: "query") }
        let documents = try c.decodeIfPresent([String].self, forKey: AnyKey("documents"))
        let texts = try c.decodeIfPresent([String].self, forKey: AnyKey("texts"))
        switch (documents, texts) {
        case (let list?, nil):
            self.documents = list; flavour = .jina
            try CompatFields.nonEmpty(list, field: "documents")
        case (nil, let list?):
            self.documents = list; flavour = .tei
            try CompatFields.nonEmpty(list, field: "texts")
        case (.some, .some):
            throw APIError.badRequest("send \"documents\" (Jina) or \"texts\" (TEI), not both", field: "texts")
        case (nil, nil):
            throw APIError.badRequest("required: \"documents\" (Jina) or \"texts\" (TEI)", field: "documents")
        }
        topN = try CompatFields.count(c, "top_n")
        let returnDocuments = try c.decodeIfPresent(Bool.self, forKey: AnyKey("return_documents"))
        let returnText = try c.decodeIfPresent(Bool.self, forKey: AnyKey("return_text"))
        let rawScores = try c.decodeIfPresent(Bool.self, forKey: AnyKey("raw_scores"))
        activation = try CompatFields.activation(c)
        switch flavour {
        case .jina:
            if returnText != nil || rawScores != nil {
                throw APIError.badRequest(
                    "applies to TEI requests (\"texts\"); with \"documents\" use \"return_documents\"",
                    field: FieldPath(returnText != nil ? "return_text" : "raw_scores"))
            }
            // vLLM and Jina return the documents unless told not to.
            self.returnDocuments = returnDocuments ?? true
            self.rawScores = true
        case .tei:
            if returnDocuments != nil || activation != nil {
                throw APIError.badRequest(
                    "applies to Jina/vLLM requests (\"documents\"); with \"texts\" use \"return_text\" and \"raw_scores\"",
                    field: FieldPath(returnDocuments != nil ? "return_documents" : "use_activation"))
            }
            // TEI's defaults: no texts, scores through a sigmoid.
            self.returnDocuments = returnText ?? false
            self.rawScores = rawScores ?? false
        }
    }
}
