import Foundation
import HTTPParser
import Scoring

/// Pinned contexts: `POST /v1/contexts` computes a context's KV once and keeps it for `ttl_seconds`,
/// `GET /v1/contexts` lists the pins, `DELETE /v1/contexts/{key}` ends one early. Requests that send the same
/// context (same method) reuse it without being told; the key is the context's `context_key`.
extension ScoringAPI {
    static let contextPath = "/v1/contexts/{key}"
    static let defaultPinSeconds = 600
    static let maxPinSeconds = 86_400

    func pinContext(_ body: [UInt8], _ report: WorkReport) async throws -> HTTPResponse {
        let decoded = try JSONBody.decode(PinBody.self, from: body)
        let options = try decoded.options.options(defaultMethod: defaultMethod)
        let seconds = decoded.ttlSeconds ?? Self.defaultPinSeconds
        guard (1...Self.maxPinSeconds).contains(seconds) else {
            throw APIError.badRequest(
                "must be an integer from 1 to \(Self.maxPinSeconds) (seconds)", field: "ttl_seconds")
        }
        let deadline = ContinuousClock.now + (try decoded.options.timeout(default: defaultTimeoutMs))
        let pinned = try await service.pin(
            try decoded.prompt.input(), method: options.method, ttl: .seconds(seconds), deadline: deadline)
        let timings = TimingsBody(pinned.timings)
        report.record(queueMs: timings.queueMs, computeMs: timings.computeMs, contextKey: pinned.context.key)
        return .json(
            status: 200,
            PinnedContextBody(
                pinned.context, now: .now, usage: .init(reused: pinned.reusedTokens, computed: pinned.computedTokens),
                timings: timings),
            headers: headers(timings, contextKey: pinned.context.key))
    }

    func pinnedContexts() -> PinnedContextListBody {
        let now = ContinuousClock.now
        return PinnedContextListBody(data: service.pinnedContexts.map { PinnedContextBody($0, now: now) })
    }

    func unpinContext(_ request: HTTPRequest) -> HTTPResponse {
        let path = request.target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
        guard let key = RouteTemplate(Self.contextPath)?.parameter(in: path), service.unpin(String(key)) else {
            return .error(
                APIError(
                    .notFound, "no pinned context with this key (it may have expired); GET /v1/contexts lists them",
                    field: "context_key"))
        }
        return .json(status: 200, UnpinnedBody(contextKey: String(key), deleted: true))
    }
}

/// POST /v1/contexts: a context (or messages, or context + prompt), the method it is rendered for, how long.
struct PinBody: Decodable {
    var prompt: PromptFields
    var options: OptionFields
    var ttlSeconds: Int?

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        try c.refuseUnknown(PromptFields.keys + ["method", "timeout_ms", "ttl_seconds"])
        prompt = try PromptFields(c)
        options = try OptionFields(c)
        if let seconds = try c.decodeIfPresent(Double.self, forKey: AnyKey("ttl_seconds")) {
            guard seconds == seconds.rounded(), abs(seconds) < 1e9 else {
                throw APIError.badRequest("expected an integer number of seconds", field: "ttl_seconds")
            }
            ttlSeconds = Int(seconds)
        }
    }
}

struct PinnedContextBody: Encodable {
    struct Usage: Encodable {
        var reused: Int
        var computed: Int
        enum CodingKeys: String, CodingKey {
            case reused = "reused_tokens"
            case computed = "computed_tokens"
        }
    }

    var contextKey: String
    var tokens: Int
    var method: String
    var ttlSeconds: Double
    var expiresAt: String
    var usage: Usage?
    var timings: TimingsBody?

    init(_ pin: PinnedContext, now: ContinuousClock.Instant, usage: Usage? = nil, timings: TimingsBody? = nil) {
        contextKey = pin.key
        tokens = pin.tokens
        method = pin.method.rawValue
        let left = pin.secondsLeft(at: now)
        ttlSeconds = (left * 1000).rounded() / 1000
        expiresAt = ISO8601DateFormatter().string(from: Date(timeIntervalSinceNow: left))
        self.usage = usage
        self.timings = timings
    }

    enum CodingKeys: String, CodingKey {
        case contextKey = "context_key"
        case tokens, method, usage, timings
        case ttlSeconds = "ttl_seconds"
        case expiresAt = "expires_at"
    }
}

struct PinnedContextListBody: Encodable {
    var data: [PinnedContextBody]
}

struct UnpinnedBody: Encodable {
    var contextKey: String
    var deleted: Bool
    enum CodingKeys: String, CodingKey {
        case contextKey = "context_key"
        case deleted
    }
}
