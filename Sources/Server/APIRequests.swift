import Foundation
import Scoring

/// Request bodies of the scoring endpoints. Decoding is strict: unknown fields are refused by name, so a
/// misspelt option never silently falls back to a default.
struct ChatMessageBody: Decodable {
    var role: String
    var content: String

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        try c.refuseUnknown(["role", "content"])
        role = try c.decode(String.self, forKey: AnyKey("role"))
        content = try c.decode(String.self, forKey: AnyKey("content"))
    }
}

/// Shared by /v1/pairwise, /v1/best-of-n and each item of /v1/score.
struct PromptFields {
    var messages: [ChatMessageBody]?
    var context: String?
    var prompt: String?

    static let keys = ["messages", "context", "prompt"]

    init(_ c: KeyedDecodingContainer<AnyKey>) throws {
        messages = try c.decodeIfPresent([ChatMessageBody].self, forKey: AnyKey("messages"))
        context = try c.decodeIfPresent(String.self, forKey: AnyKey("context"))
        prompt = try c.decodeIfPresent(String.self, forKey: AnyKey("prompt"))
    }

    /// `prefix`: where these fields sit in the body (`items[3]`), for errors.
    func input(under prefix: FieldPath = FieldPath([])) throws(APIError) -> PromptInput {
        if let messages {
            if context != nil || prompt != nil {
                throw .badRequest(
                    "give either \"messages\" or \"context\" + \"prompt\", not both",
                    field: FieldPath("messages").under(prefix))
            }
            if messages.isEmpty {
                throw .badRequest("must hold at least one message", field: FieldPath("messages").under(prefix))
            }
            return .messages(messages.map { ChatMessage(role: $0.role, content: $0.content) })
        }
        guard context != nil || prompt != nil else {
            throw .badRequest(
                "required: \"messages\", or \"context\" and/or \"prompt\"", field: FieldPath("prompt").under(prefix))
        }
        return .contextPrompt(context: context ?? "", prompt: prompt ?? "")
    }
}

/// Options every scoring body may carry.
struct OptionFields {
    var method: String?
    var normalize: String?
    var truncation: String?
    var timeoutMs: Int?
    var stepRewards: Bool?
    /// Method judge only: template name, `probability` | `generate`, generation cap, return the text.
    var judgeTemplate: String?
    var judgeMode: String?
    var maxNewTokens: Int?
    var returnText: Bool?

    static let keys = ["method", "normalize", "truncation", "timeout_ms", "step_rewards"] + judgeKeys
    static let judgeKeys = ["judge_template", "judge_mode", "max_new_tokens", "return_text"]

    init(_ c: KeyedDecodingContainer<AnyKey>) throws {
        method = try c.decodeIfPresent(String.self, forKey: AnyKey("method"))
        normalize = try c.decodeIfPresent(String.self, forKey: AnyKey("normalize"))
        truncation = try c.decodeIfPresent(String.self, forKey: AnyKey("truncation"))
        stepRewards = try c.decodeIfPresent(Bool.self, forKey: AnyKey("step_rewards"))
        // Decoded as a number first: Foundation reports 2.5-for-an-Int without naming the field.
        if let ms = try c.decodeIfPresent(Double.self, forKey: AnyKey("timeout_ms")) {
            guard ms == ms.rounded(), abs(ms) < 1e15 else {
                throw APIError.badRequest("expected an integer number of milliseconds", field: "timeout_ms")
            }
            timeoutMs = Int(ms)
        }
        judgeTemplate = try c.decodeIfPresent(String.self, forKey: AnyKey("judge_template"))
        judgeMode = try c.decodeIfPresent(String.self, forKey: AnyKey("judge_mode"))
        if let n = try c.decodeIfPresent(Double.self, forKey: AnyKey("max_new_tokens")) {
            guard n == n.rounded(), abs(n) < 1e9 else {
                throw APIError.badRequest("expected an integer", field: "max_new_tokens")
            }
            maxNewTokens = Int(n)
        }
        returnText = try c.decodeIfPresent(Bool.self, forKey: AnyKey("return_text"))
    }

    func options(defaultMethod: ScoringMethod) throws(APIError) -> ScoringOptions {
        let method = try parse(self.method, ScoringMethod.self, field: "method") ?? defaultMethod
        let normalization = try parse(normalize, Normalization.self, field: "normalize")
        let truncation = try parse(self.truncation, Truncation.self, field: "truncation") ?? .none
        if stepRewards == true && method != .classifier {
            throw .badRequest(
                "step rewards come from a classifier head; send \"method\": \"classifier\"", field: "step_rewards")
        }
        let judgeFields: [(String, Bool)] = [
            ("judge_template", judgeTemplate != nil), ("judge_mode", judgeMode != nil),
            ("max_new_tokens", maxNewTokens != nil), ("return_text", returnText != nil),
        ]
        if method != .judge, let given = judgeFields.first(where: \.1) {
            throw .badRequest("applies to method \"judge\" only", field: FieldPath(given.0))
        }
        // Checked here, not only where a template is looked up: a request with no items never gets there.
        if judgeTemplate?.isEmpty == true { throw .badRequest("must name a template", field: "judge_template") }
        let judge = JudgeOptions(
            template: judgeTemplate, mode: try parse(judgeMode, JudgeMode.self, field: "judge_mode") ?? .probability,
            maxNewTokens: maxNewTokens, returnText: returnText ?? false)
        return ScoringOptions(
            method: method, normalization: normalization, truncation: truncation, stepRewards: stepRewards ?? false,
            judge: judge)
    }

    func timeout(default fallback: Int) throws(APIError) -> Duration {
        let ms = timeoutMs ?? fallback
        guard (1...86_400_000).contains(ms) else {
            throw .badRequest("must be an integer from 1 to 86400000 (milliseconds)", field: "timeout_ms")
        }
        return .milliseconds(ms)
    }

    private func parse<T: RawRepresentable & CaseIterable>(_ raw: String?, _: T.Type, field: FieldPath) throws(APIError)
        -> T?
    where T.RawValue == String {
        guard let raw else { return nil }
        guard let value = T(rawValue: raw) else {
            let allowed = T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            throw .badRequest("unknown value \"\(raw)\"; expected one of \(allowed)", field: field)
        }
        return value
    }
}

/// POST /v1/pairwise and /v1/best-of-n.
struct ResponsesBody: Decodable {
    var prompt: PromptFields
    var responses: [String]
    var options: OptionFields

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        try c.refuseUnknown(PromptFields.keys + OptionFields.keys + ["responses"])
        prompt = try PromptFields(c)
        responses = try c.decode([String].self, forKey: AnyKey("responses"))
        options = try OptionFields(c)
    }
}

/// POST /v1/score.
struct ScoreBody: Decodable {
    struct Item: Decodable {
        var prompt: PromptFields
        var response: String
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            try c.refuseUnknown(PromptFields.keys + ["response"])
            prompt = try PromptFields(c)
            response = try c.decode(String.self, forKey: AnyKey("response"))
        }
    }
    var items: [Item]
    var options: OptionFields

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        try c.refuseUnknown(OptionFields.keys + ["items"])
        items = try c.decode([Item].self, forKey: AnyKey("items"))
        options = try OptionFields(c)
    }
}

/// POST /get_reward (OpenRLHF's remote reward model protocol). Fields OpenRLHF may add later are ignored,
/// so a newer trainer keeps working.
struct GetRewardBody: Decodable {
    var query: [String]
    var prompts: [String]?

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        query = try c.decode([String].self, forKey: AnyKey("query"))
        prompts = try c.decodeIfPresent([String].self, forKey: AnyKey("prompts"))
    }
}

struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { stringValue = String(intValue); self.intValue = intValue }
}

extension KeyedDecodingContainer where Key == AnyKey {
    func refuseUnknown(_ allowed: [String]) throws {
        let unknown = allKeys.map(\.stringValue).filter { !allowed.contains($0) }.sorted()
        guard unknown.isEmpty else {
            let listed = unknown.joined(separator: "\", \"")
            // A key may be the empty string, which names no field: the path then stops at the object holding it.
            let named = unknown.first { !$0.isEmpty }
            let parent = JSONBody.path(codingPath)
            throw APIError.badRequest(
                "unknown field \"\(listed)\"; allowed: \(allowed.sorted().joined(separator: ", "))",
                field: named.map { parent?.key($0) ?? FieldPath($0) } ?? parent)
        }
    }
}

/// JSON body decoding with errors that name the field and the reason.
enum JSONBody {
    static func decode<T: Decodable>(_ type: T.Type, from body: [UInt8]) throws(APIError) -> T {
        guard !body.isEmpty else { throw .badRequest("the request body is empty; send a JSON object", field: nil) }
        do {
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch let error as APIError {
            throw error
        } catch let DecodingError.typeMismatch(expected, context) {
            throw .badRequest("expected \(describe(expected))", field: path(context.codingPath))
        } catch let DecodingError.valueNotFound(expected, context) {
            throw .badRequest("expected \(describe(expected)), got null", field: path(context.codingPath))
        } catch let DecodingError.keyNotFound(key, context) {
            throw .badRequest("required field is missing", field: path(context.codingPath + [key]))
        } catch let DecodingError.dataCorrupted(context) where !context.codingPath.isEmpty {
            throw .badRequest("invalid value", field: path(context.codingPath))
        } catch {
            throw .badRequest("malformed JSON: the body must be one JSON object", field: nil)
        }
    }

    /// nil for the body itself: the error then concerns no single field.
    static func path(_ keys: [any CodingKey]) -> FieldPath? {
        guard !keys.isEmpty else { return nil }
        return FieldPath(keys.map { key in key.intValue.map(FieldPath.Component.index) ?? .key(key.stringValue) })
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type: return "an integer"
        case is Double.Type: return "a number"
        case is Bool.Type: return "a boolean"
        case is [String].Type: return "an array of strings"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") || name.contains("Body") { return "an object" }
            return name
        }
    }
}
