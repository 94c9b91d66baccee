import Foundation
import HTTPParser
import Scoring

/// The scoring endpoints: JSON in, domain requests to the `Scorer`, JSON out. `longrm score` calls the same
/// handlers without a socket, so the CLI and the server give identical numbers for the same body.
public struct ScoringAPI: Sendable {
    public let scorer: Scorer
    public let defaultMethod: ScoringMethod
    public let defaultTimeoutMs: Int
    let lifecycle: ServerLifecycle
    let openAPIDocument: [UInt8]?

    public init(scorer: Scorer, defaultMethod: ScoringMethod? = nil, defaultTimeoutMs: Int = 600_000,
                lifecycle: ServerLifecycle = ServerLifecycle(), openAPIDocument: [UInt8]? = nil) {
        self.scorer = scorer
        self.defaultMethod = defaultMethod ?? (scorer.methods.contains(.classifier) ? .classifier : .likelihood)
        self.defaultTimeoutMs = defaultTimeoutMs
        self.lifecycle = lifecycle
        self.openAPIDocument = openAPIDocument
    }

    public static let postRoutes = ["/v1/pairwise", "/v1/best-of-n", "/v1/score", "/get_reward"]

    public func register(into router: inout Router) {
        router.post("/v1/pairwise") { request, _ in await respond { try await pairwise(request.body) } }
        router.post("/v1/best-of-n") { request, _ in await respond { try await bestOfN(request.body) } }
        router.post("/v1/score") { request, _ in await respond { try await score(request.body) } }
        router.post("/get_reward") { request, _ in await respond { try await getReward(request.body) } }
        router.get("/v1/models") { _, _ in .json(status: 200, models()) }
        router.get("/ready") { _, _ in ready() }
        if let document = openAPIDocument {
            router.get("/openapi.json") { _, _ in .json(status: 200, bytes: document) }
        }
    }

    /// Runs one endpoint on a body without HTTP (the `longrm score` command).
    public func handle(path: String, body: [UInt8]) async -> HTTPResponse {
        switch path {
        case "/v1/pairwise": return await respond { try await pairwise(body) }
        case "/v1/best-of-n": return await respond { try await bestOfN(body) }
        case "/v1/score": return await respond { try await score(body) }
        case "/get_reward": return await respond { try await getReward(body) }
        default: return .error(.notFound("no endpoint \(path)"))
        }
    }

    // MARK: endpoints

    func pairwise(_ body: [UInt8]) async throws -> HTTPResponse {
        let decoded = try JSONBody.decode(ResponsesBody.self, from: body)
        let request = ScoringRequest(input: try decoded.prompt.input(), responses: decoded.responses,
                                     options: try decoded.options.options(defaultMethod: defaultMethod))
        let deadline = ContinuousClock.now + (try decoded.options.timeout(default: defaultTimeoutMs))
        let pair = try await scorer.pairwise(request, deadline: deadline)
        let result = pair.result
        return .json(status: 200, PairwiseResponseBody(
            rewards: finite(result.rewards), preferred: pair.preferred, probability: finite(pair.probability),
            margin: finite(pair.margin), consistent: result.consistent, method: result.method.rawValue,
            normalize: result.normalization.rawValue, model: scorer.model.name, contextKey: result.contextKey,
            usage: UsageBody(result.usage), timings: timings(result.timings), judge: JudgeBody(result.judge),
            head: HeadOutputBody(result)),
            headers: contextHeader(result.contextKey, result.timings))
    }

    func bestOfN(_ body: [UInt8]) async throws -> HTTPResponse {
        let decoded = try JSONBody.decode(ResponsesBody.self, from: body)
        let request = ScoringRequest(input: try decoded.prompt.input(), responses: decoded.responses,
                                     options: try decoded.options.options(defaultMethod: defaultMethod))
        let deadline = ContinuousClock.now + (try decoded.options.timeout(default: defaultTimeoutMs))
        let result = try await scorer.bestOfN(request, deadline: deadline)
        return .json(status: 200, BestOfNResponseBody(
            rewards: finite(result.rewards), ranking: result.ranking, best: result.best, method: result.method.rawValue,
            normalize: result.normalization.rawValue, model: scorer.model.name, contextKey: result.contextKey,
            usage: UsageBody(result.usage), timings: timings(result.timings), judge: JudgeBody(result.judge),
            head: HeadOutputBody(result)),
            headers: contextHeader(result.contextKey, result.timings))
    }

    func score(_ body: [UInt8]) async throws -> HTTPResponse {
        let decoded = try JSONBody.decode(ScoreBody.self, from: body)
        let options = try decoded.options.options(defaultMethod: defaultMethod)
        let deadline = ContinuousClock.now + (try decoded.options.timeout(default: defaultTimeoutMs))
        guard decoded.items.count <= 1024 else { throw APIError.badRequest("at most 1024 items, got \(decoded.items.count)", field: "items") }
        var items: [(input: PromptInput, response: String)] = []
        for (i, item) in decoded.items.enumerated() {
            items.append((try item.prompt.input(path: "items[\(i)]."), item.response))
        }
        let scored = try await scoreGrouped(items, options: options, deadline: deadline, field: "items")
        return .json(status: 200, ScoreResponseBody(
            rewards: finite(scored.rewards), method: options.method.rawValue,
            normalize: (options.normalization ?? (options.method == .likelihood ? .mean : Normalization.none)).rawValue,
            model: scorer.model.name, usage: scored.usage, timings: scored.timings, head: scored.head, judge: scored.judge),
            headers: timingHeader(scored.timings))
    }

    /// OpenRLHF: `query` is prompt + response rendered with the policy's chat template; with `prompts`,
    /// the prompt part is split off so rollouts of one prompt share its computation.
    func getReward(_ body: [UInt8]) async throws -> HTTPResponse {
        let decoded = try JSONBody.decode(GetRewardBody.self, from: body)
        if let prompts = decoded.prompts, prompts.count != decoded.query.count {
            throw APIError.badRequest("must have as many entries as query (\(decoded.query.count)), got \(prompts.count)", field: "prompts")
        }
        guard decoded.query.count <= 4096 else { throw APIError.badRequest("at most 4096 queries", field: "query") }
        var items: [(input: PromptInput, response: String)] = []
        for (i, query) in decoded.query.enumerated() {
            if query.isEmpty { throw APIError.badRequest("must not be empty", field: "query[\(i)]") }
            if let prompt = decoded.prompts?[i], !prompt.isEmpty, query.hasPrefix(prompt), query.count > prompt.count {
                items.append((.raw(prompt), String(query.dropFirst(prompt.count))))
            } else {
                items.append((.raw(""), query))
            }
        }
        let deadline = ContinuousClock.now + .milliseconds(defaultTimeoutMs)
        let scored = try await scoreGrouped(items, options: ScoringOptions(method: defaultMethod), deadline: deadline, field: "query")
        let values = finite(scored.rewards)
        return .json(status: 200, GetRewardResponseBody(rewards: values, scores: values, extraLogs: [:]), headers: timingHeader(scored.timings))
    }

    func models() -> ModelsResponseBody {
        let model = scorer.model
        return ModelsResponseBody(data: [.init(
            id: model.name, contextWindow: scorer.window, trainedContext: model.trainedContext,
            methods: scorer.methods.map(\.rawValue), defaultMethod: defaultMethod.rawValue,
            classifierLabels: model.classifierLabels,
            rewardLabel: model.classifierLabels.indices.contains(scorer.rewardLabel) ? model.classifierLabels[scorer.rewardLabel] : nil,
            chatTemplate: model.chatTemplate != nil, cpuVariant: model.cpuVariant.name)])
    }

    func ready() -> HTTPResponse {
        let queue = scorer.queue
        let status = lifecycle.isDraining ? "draining" : queue.saturated ? "saturated" : "ready"
        let body = ReadyResponseBody(status: status, queuedRequests: queue.queuedRequests, runningJobs: queue.runningJobs)
        if status == "ready" { return .json(status: 200, body) }
        var headers = HTTPHeaders()
        headers.add(name: "Retry-After", value: "1")
        return .json(status: 503, body, headers: headers)
    }

    // MARK: helpers

    /// Scores items one reward each; items with the same prompt go to the engine as one request, so their
    /// prompt is computed once. Groups run concurrently and share llama_decode calls in the batcher.
    private func scoreGrouped(_ items: [(input: PromptInput, response: String)], options: ScoringOptions,
                              deadline: ContinuousClock.Instant, field: String) async throws -> GroupedScores {
        var groups: [(input: PromptInput, indices: [Int])] = []
        for (i, item) in items.enumerated() {
            if let g = groups.firstIndex(where: { $0.input == item.input }) { groups[g].indices.append(i) } else { groups.append((item.input, [i])) }
        }
        // Groups larger than the engine's per-request limit are split; order is restored below.
        var requests: [(indices: [Int], request: ScoringRequest)] = []
        for group in groups {
            for start in stride(from: 0, to: group.indices.count, by: ScoringLimits.maxResponses) {
                let indices = Array(group.indices[start..<min(start + ScoringLimits.maxResponses, group.indices.count)])
                requests.append((indices, ScoringRequest(input: group.input, responses: indices.map { items[$0].response }, options: options)))
            }
        }
        var rewards = [Double](repeating: 0, count: items.count)
        var vectors = [[Double]](repeating: [], count: items.count)
        var steps = [[Double]](repeating: [], count: items.count)
        var labels: [String]?
        // Method judge: each item's verdicts, `shown` mapped from the group's responses to item indices.
        var judge: JudgeReport?
        var responseTokens = [Int](repeating: 0, count: items.count)
        var usages: [TokenUsage] = []
        var timing = TimingsBody(queueMs: 0, computeMs: 0)
        let scorer = self.scorer
        try await withThrowingTaskGroup(of: (Int, ScoringResult).self) { group in
            for (r, entry) in requests.enumerated() {
                group.addTask {
                    do {
                        return (r, try await scorer.score(entry.request, deadline: deadline))
                    } catch let ScoringError.invalidRequest(subfield, reason) where subfield.hasPrefix("responses[") {
                        let index = Int(subfield.dropFirst("responses[".count).dropLast()) ?? 0
                        throw ScoringError.invalidRequest(field: "\(field)[\(entry.indices[index])]", reason: reason)
                    }
                }
            }
            for try await (r, result) in group {
                for (k, i) in requests[r].indices.enumerated() {
                    rewards[i] = result.rewards[k]
                    responseTokens[i] = result.usage.responseTokens[k]
                    if let v = result.rewardVectors { vectors[i] = v[k] }
                    if let s = result.stepRewards { steps[i] = s[k] }
                }
                labels = result.labels
                if let report = result.judge {
                    let items = requests[r].indices
                    let verdicts = report.verdicts.map { verdict in
                        var mapped = verdict
                        mapped.shown = verdict.shown.map { items[$0] }
                        return mapped
                    }
                    judge = JudgeReport(template: report.template, mode: report.mode, consistent: nil,
                                        verdicts: (judge?.verdicts ?? []) + verdicts)
                }
                usages.append(result.usage)
                timing.queueMs = max(timing.queueMs, result.timings.queueMs)
                timing.computeMs = max(timing.computeMs, result.timings.computeMs)
            }
        }
        let head = labels.map { HeadOutputBody(labels: $0, rewardVectors: vectors, stepRewards: options.stepRewards ? steps : nil) }
        judge?.verdicts.sort { $0.shown.first ?? 0 < $1.shown.first ?? 0 }
        return GroupedScores(rewards: rewards, usage: UsageBody(summing: usages, responseTokens: responseTokens), timings: timing,
                             head: head, judge: JudgeBody(judge))
    }

    struct GroupedScores {
        var rewards: [Double]
        var usage: UsageBody
        var timings: TimingsBody
        var head: HeadOutputBody?
        var judge: JudgeBody?
    }

    private func timings(_ t: Timings) -> TimingsBody { TimingsBody(queueMs: t.queueMs, computeMs: t.computeMs) }

    private func contextHeader(_ key: String, _ t: Timings) -> HTTPHeaders {
        var headers = timingHeader(TimingsBody(queueMs: t.queueMs, computeMs: t.computeMs))
        headers.add(name: "X-Context-Key", value: key)
        return headers
    }

    /// Engine time for clients, the access log and /metrics (Sources/Server/AccessLogRecord.swift).
    private func timingHeader(_ t: TimingsBody) -> HTTPHeaders {
        let (name, value) = ServerTiming.header(queueMs: t.queueMs, computeMs: t.computeMs)
        return HTTPHeaders([(name, value)])
    }

    /// Every failure becomes the shared error JSON with its status; nothing escapes as a crash.
    private func respond(_ body: () async throws -> HTTPResponse) async -> HTTPResponse {
        do {
            return try await body()
        } catch let error as APIError {
            return .error(error)
        } catch let error as ScoringError {
            return ScoringAPI.response(for: error, draining: lifecycle.isDraining)
        } catch is CancellationError {
            return ScoringAPI.response(for: .cancelled, draining: lifecycle.isDraining)
        } catch {
            return .error(.internalError("unexpected failure: \(error)"))
        }
    }

    static func response(for error: ScoringError, draining: Bool) -> HTTPResponse {
        switch error {
        case .invalidRequest(let field, let reason):
            return .error(.badRequest(reason, field: field))
        case .contextTooLong:
            return .error(APIError(status: 400, type: "context_too_long", message: error.message, field: "context"))
        case .unsupportedMethod:
            return .error(APIError(status: 400, type: "unsupported_method", message: error.message, field: "method"))
        case .overloaded(let seconds):
            var headers = HTTPHeaders()
            headers.add(name: "Retry-After", value: String(seconds))
            return .error(APIError(status: 429, type: "overloaded", message: error.message), headers: headers)
        case .timedOut:
            return .error(APIError(status: 504, type: "timeout", message: error.message))
        case .cancelled:
            // The client is usually gone; when the server is stopping, say so to whoever still listens.
            return .error(APIError(status: draining ? 503 : 499, type: draining ? "unavailable" : "cancelled", message: error.message))
        case .modelLoadFailed, .engineFailure:
            return .error(.internalError(error.message))
        }
    }
}
