import Foundation
import HTTPParser
import Scoring

/// POST /v1/chat/completions: OpenAI's chat completion, the subset a generative reward path needs (verl's
/// GenRM, judges called through an OpenAI client): one greedy, non-streamed choice, `max_tokens`,
/// `logprobs`/`top_logprobs`. Sampling is not offered, so anything but temperature 0 (or none), `n` 1 and no
/// `stream` or `stop` is refused by name rather than silently ignored. Other unknown fields are ignored.
struct ChatCompletionBody: Decodable {
    struct Message: Decodable {
        var role: String
        var content: String

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            role = try c.decode(String.self, forKey: AnyKey("role"))
            // A string, or OpenAI's content parts of which the text ones are read.
            if let text = try? c.decode(String.self, forKey: AnyKey("content")) {
                content = text
            } else {
                let parts = try c.decode([Part].self, forKey: AnyKey("content"))
                content = parts.map(\.text).joined()
            }
        }
    }

    struct Part: Decodable {
        var text: String
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            let type = try c.decode(String.self, forKey: AnyKey("type"))
            guard type == "text" else {
                throw APIError.badRequest("only text content parts are read, got \"\(type)\"", field: "messages")
            }
            text = try c.decode(String.self, forKey: AnyKey("text"))
        }
    }

    var messages: [Message]
    var maxTokens: Int?
    var topLogprobs: Int?

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        _ = try c.decodeIfPresent(String.self, forKey: AnyKey("model"))
        messages = try c.decode([Message].self, forKey: AnyKey("messages"))
        guard !messages.isEmpty else { throw APIError.badRequest("must hold at least one message", field: "messages") }
        let maxTokens = try CompatFields.count(c, "max_tokens")
        let maxCompletionTokens = try CompatFields.count(c, "max_completion_tokens")
        for (name, value) in [("max_tokens", maxTokens), ("max_completion_tokens", maxCompletionTokens)]
        where value == 0 {
            throw APIError.badRequest("must be at least 1", field: FieldPath(name))
        }
        self.maxTokens = maxCompletionTokens ?? maxTokens
        if let temperature = try c.decodeIfPresent(Double.self, forKey: AnyKey("temperature")), temperature != 0 {
            throw APIError.badRequest("only greedy decoding is served: send 0 or leave it out", field: "temperature")
        }
        if let n = try CompatFields.count(c, "n"), n != 1 {
            throw APIError.badRequest("one choice per request", field: "n")
        }
        if try c.decodeIfPresent(Bool.self, forKey: AnyKey("stream")) == true {
            throw APIError.badRequest("streaming is not served", field: "stream")
        }
        if c.contains(AnyKey("stop")), try !c.decodeNil(forKey: AnyKey("stop")) {
            throw APIError.badRequest(
                "stop sequences are not served (generation ends at the end of turn)", field: "stop")
        }
        let logprobs = try c.decodeIfPresent(Bool.self, forKey: AnyKey("logprobs")) ?? false
        let top = try CompatFields.count(c, "top_logprobs")
        if let top, top > 20 { throw APIError.badRequest("at most 20", field: "top_logprobs") }
        if top != nil && !logprobs {
            throw APIError.badRequest("needs \"logprobs\": true", field: "top_logprobs")
        }
        topLogprobs = logprobs ? (top ?? 0) : nil
    }
}

struct ChatCompletionResponseBody: Encodable {
    struct Alternative: Encodable {
        var token: String
        var logprob: Double
        var bytes: [UInt8]
        init(_ a: TokenLogprobs.Alternative) {
            token = String(decoding: a.bytes, as: UTF8.self); logprob = finite(a.logprob); bytes = a.bytes
        }
    }
    struct Content: Encodable {
        var token: String
        var logprob: Double
        var bytes: [UInt8]
        var topLogprobs: [Alternative]
        enum CodingKeys: String, CodingKey {
            case token, logprob, bytes
            case topLogprobs = "top_logprobs"
        }
        init(_ t: TokenLogprobs) {
            let chosen = Alternative(t.chosen)
            token = chosen.token; logprob = chosen.logprob; bytes = chosen.bytes
            topLogprobs = t.top.map(Alternative.init)
        }
    }
    struct Logprobs: Encodable { var content: [Content] }
    struct Message: Encodable {
        var role = "assistant"
        var content: String
    }
    struct Choice: Encodable {
        var index = 0
        var message: Message
        var logprobs: Logprobs?
        var finishReason: String
        enum CodingKeys: String, CodingKey {
            case index, message, logprobs
            case finishReason = "finish_reason"
        }
        // `logprobs` is always present (null unless asked), as OpenAI sends it.
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index); try c.encode(message, forKey: .message)
            try c.encode(logprobs, forKey: .logprobs); try c.encode(finishReason, forKey: .finishReason)
        }
    }
    var id: String
    var object = "chat.completion"
    var created: Int
    var model: String
    var choices: [Choice]
    var usage: CompatUsage
}

extension ScoringAPI {
    func chatCompletion(_ body: [UInt8], _ context: RequestContext) async throws -> HTTPResponse {
        let decoded = try JSONBody.decode(ChatCompletionBody.self, from: body)
        let request = CompletionRequest(
            messages: decoded.messages.map { ChatMessage(role: $0.role, content: $0.content) },
            maxTokens: decoded.maxTokens, topLogprobs: decoded.topLogprobs)
        let result: CompletionResult
        do {
            result = try await service.complete(
                request, deadline: ContinuousClock.now + .milliseconds(defaultTimeoutMs))
        } catch {
            // No `method` field here to blame: the model itself cannot generate.
            if case .unsupportedMethod = error { throw APIError(.unsupportedMethod, error.message) }
            if case .contextTooLong(let needed, let available) = error {
                throw APIError(
                    .contextTooLong,
                    "the messages and max_tokens need \(needed) tokens but the window holds \(available); "
                        + "shorten the messages or lower max_tokens", field: "messages")
            }
            throw error
        }
        let timings = TimingsBody(result.timings)
        context.report.record(queueMs: timings.queueMs, computeMs: timings.computeMs)
        let choice = ChatCompletionResponseBody.Choice(
            message: .init(content: result.text),
            logprobs: result.logprobs.map { .init(content: $0.map(ChatCompletionResponseBody.Content.init)) },
            finishReason: result.finish.rawValue)
        return .json(
            status: 200,
            ChatCompletionResponseBody(
                id: compatID("chatcmpl", context.requestID), created: unixSeconds(), model: service.info.modelName,
                choices: [choice],
                usage: .init(promptTokens: result.promptTokens, completionTokens: result.completionTokens)),
            headers: headers(timings))
    }
}
