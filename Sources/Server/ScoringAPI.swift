import Foundation
import HTTPParser
import Scoring

/// The scoring endpoints: JSON in, domain requests to a `ScoringService`, JSON out. `longrm score` runs the
/// same endpoints without a socket (`Application.respond(to:)`), so the CLI and the server give identical
/// numbers for the same body.
public struct ScoringAPI: Sendable {
    public let service: any ScoringService
    public let defaultMethod: ScoringMethod
    public let defaultTimeoutMs: Int
    let lifecycle: ServerLifecycle
    let openAPIDocument: [UInt8]?

    public init(
        service: any ScoringService, configuration: APIConfiguration = APIConfiguration(),
        lifecycle: ServerLifecycle = ServerLifecycle()
    ) {
        self.service = service
        defaultMethod = configuration.defaultMethod ?? service.info.defaultMethod
        defaultTimeoutMs = configuration.defaultTimeoutMs
        self.lifecycle = lifecycle
        openAPIDocument = configuration.openAPIDocument
    }

    /// The API's rows of the route table.
    public var endpoints: [Endpoint] {
        var table =
            [
                post("/v1/pairwise") { try await $0.pairwise($1, $2) },
                post("/v1/best-of-n") { try await $0.bestOfN($1, $2) },
                post("/v1/score") { try await $0.score($1, $2) },
                post("/get_reward") { try await $0.getReward($1, $2) },
                post("/v1/contexts") { try await $0.pinContext($1, $2) },
                Endpoint("GET", "/v1/contexts") { _, _ in .json(status: 200, pinnedContexts()) },
                Endpoint("DELETE", Self.contextPath) { request, _ in unpinContext(request) },
            ] + compatEndpoints + [
                Endpoint("GET", "/v1/models") { _, _ in .json(status: 200, models()) },
                Endpoint("GET", "/ready", isProbe: true, watchesPeer: false) { _, _ in ready() },
            ]
        if let document = openAPIDocument {
            table.append(
                Endpoint("GET", "/openapi.json", watchesPeer: false) { _, _ in .json(status: 200, bytes: document) })
        }
        return table
    }

    /// A JSON endpoint: the body in, a response or a thrown error out.
    private func post(
        _ path: String,
        _ run: @escaping @Sendable (ScoringAPI, [UInt8], WorkReport) async throws -> HTTPResponse
    ) -> Endpoint {
        Endpoint("POST", path) { [self] request, context in
            await respond { try await run(self, request.body, context.report) }
        }
    }

    // MARK: endpoints

    func pairwise(_ body: [UInt8], _ report: WorkReport) async throws -> HTTPResponse {
        let decoded = try JSONBody.decode(ResponsesBody.self, from: body)
        let request = ScoringRequest(
            input: try decoded.prompt.input(), responses: decoded.responses,
            options: try decoded.options.options(defaultMethod: defaultMethod))
        let deadline = ContinuousClock.now + (try decoded.options.timeout(default: defaultTimeoutMs))
        let pair = try await service.pairwise(request, deadline: deadline)
        let result = pair.result
        report.record(
            queueMs: result.timings.queueMs, computeMs: result.timings.computeMs, contextKey: result.contextKey)
        return .json(
            status: 200,
            PairwiseResponseBody(
                rewards: finite(result.rewards), preferred: pair.preferred, probability: finite(pair.probability),
                margin: finite(pair.margin), consistent: result.consistent, method: result.method.rawValue,
                normalize: result.normalization.rawValue, model: service.info.modelName, contextKey: result.contextKey,
                usage: UsageBody(result.usage), timings: TimingsBody(result.timings), judge: JudgeBody(result.judge),
                head: HeadOutputBody(result)),
            headers: headers(TimingsBody(result.timings), contextKey: result.contextKey))
    }

    func bestOfN(_ body: [UInt8], _ report: WorkReport) async throws -> HTTPResponse {
        let decoded = try JSONBody.decode(ResponsesBody.self, from: body)
        let request = ScoringRequest(
            input: try decoded.prompt.input(), responses: decoded.responses,
            options: try decoded.options.options(defaultMethod: defaultMethod))
        let deadline = ContinuousClock.now + (try decoded.options.timeout(default: defaultTimeoutMs))
        let result = try await service.bestOfN(request, deadline: deadline)
        report.record(
            queueMs: result.timings.queueMs, computeMs: result.timings.computeMs, contextKey: result.contextKey)
        return .json(
            status: 200,
            BestOfNResponseBody(
                rewards: finite(result.rewards), ranking: result.ranking, best: result.best,
                method: result.method.rawValue,
                normalize: result.normalization.rawValue, model: service.info.modelName, contextKey: result.contextKey,
                usage: UsageBody(result.usage), timings: TimingsBody(result.timings), judge: JudgeBody(result.judge),
                head: HeadOutputBody(result)),
            headers: headers(TimingsBody(result.timings), contextKey: result.contextKey))
    }

    func score(_ body: [UInt8], _ report: WorkReport) async throws -> HTTPResponse {
        let decoded = try JSONBody.decode(ScoreBody.self, from: body)
        let options = try decoded.options.options(defaultMethod: defaultMethod)
        let deadline = ContinuousClock.now + (try decoded.options.timeout(default: defaultTimeoutMs))
        guard decoded.items.count <= 1024 else {
            throw APIError.badRequest("at most 1024 items, got \(decoded.items.count)", field: "items")
        }
        var items: [(input: PromptInput, response: String)] = []
        for (i, item) in decoded.items.enumerated() {
            items.append((try item.prompt.input(under: FieldPath("items").index(i)), item.response))
        }
        let scored = try await scoreGrouped(items, options: options, deadline: deadline, field: "items")
        report.record(queueMs: scored.timings.queueMs, computeMs: scored.timings.computeMs)
        return .json(
            status: 200,
            ScoreResponseBody(
                rewards: finite(scored.rewards), method: options.method.rawValue,
                normalize: (options.normalization ?? (options.method == .likelihood ? .mean : Normalization.none))
                    .rawValue,
                model: service.info.modelName, usage: scored.usage, timings: scored.timings, head: scored.head,
                judge: scored.judge),
            headers: headers(scored.timings))
    }

    /// OpenRLHF: `query` is prompt + response rendered with the policy's chat template. The prompt part
    /// (from `prompts`, else cut after the last assistant header: `RewardQueries`) is shared by the
    /// rollouts of one prompt; `extra_logs.boundary` says per query how it was found.
    func getReward(_ body: [UInt8], _ report: WorkReport) async throws -> HTTPResponse {
        let decoded = try JSONBody.decode(GetRewardBody.self, from: body)
        if let prompts = decoded.prompts, prompts.count != decoded.query.count {
            throw APIError.badRequest(
                "must have as many entries as query (\(decoded.query.count)), got \(prompts.count)",
                field: "prompts")
        }
        guard decoded.query.count <= 4096 else { throw APIError.badRequest("at most 4096 queries", field: "query") }
        let queries = try service.rewardQueries(decoded.query, prompts: decoded.prompts, method: defaultMethod)
        let deadline = ContinuousClock.now + .milliseconds(defaultTimeoutMs)
        let scored = try await scoreGrouped(
            queries.map { ($0.input, $0.response) }, options: ScoringOptions(method: defaultMethod),
            deadline: deadline, field: "query")
        report.record(queueMs: scored.timings.queueMs, computeMs: scored.timings.computeMs)
        let values = finite(scored.rewards)
        return .json(
            status: 200,
            GetRewardResponseBody(
                rewards: values, scores: values,
                extraLogs: ["boundary": queries.map(\.source.code)]),
            headers: headers(scored.timings))
    }

    func models() -> ModelsResponseBody {
        let info = service.info
        return ModelsResponseBody(data: [
            .init(
                id: info.modelName, contextWindow: info.window, trainedContext: info.trainedContext,
                methods: info.methods.map(\.rawValue), defaultMethod: defaultMethod.rawValue,
                classifierLabels: info.classifierLabels, rewardLabel: info.rewardLabel,
                chatTemplate: info.hasChatTemplate,
                kv: .init(
                    bytesPerToken: info.kv.bytesPerToken, bytesPerContext: info.kv.bytesPerStream,
                    largestContext: info.kv.window,
                    contextsPerWorker: info.kv.streamsPerWorker, workers: info.kv.workers,
                    totalBytes: info.kv.totalBytes, cacheType: info.kv.cacheType.rawValue),
                cpuVariant: info.cpuVariant)
        ])
    }

    func ready() -> HTTPResponse {
        let queue = service.queue
        let status = lifecycle.isDraining ? "draining" : queue.saturated ? "saturated" : "ready"
        let body = ReadyResponseBody(
            status: status, queuedRequests: queue.queuedRequests, runningJobs: queue.runningJobs)
        if status == "ready" { return .json(status: 200, body) }
        return .json(status: 503, body, headers: HTTPHeaders([("Retry-After", "1")]))
    }

    // MARK: helpers

    /// Scores items one reward each; items with the same prompt go to the engine as one request, so their
    /// prompt is computed once. Groups run concurrently and share llama_decode calls in the batcher. An error
    /// about a response names the item it came from (`items[7]`), not its place in the engine request.
    func scoreGrouped(
        _ items: [(input: PromptInput, response: String)], options: ScoringOptions,
        deadline: ContinuousClock.Instant, field: String
    ) async throws -> GroupedScores {
        var groups: [(input: PromptInput, indices: [Int])] = []
        for (i, item) in items.enumerated() {
            if let g = groups.firstIndex(where: { $0.input == item.input }) {
                groups[g].indices.append(i)
            } else {
                groups.append((item.input, [i]))
            }
        }
        // Groups larger than the engine's per-request limit are split; order is restored below.
        var requests: [(indices: [Int], request: ScoringRequest)] = []
        for group in groups {
            for start in stride(from: 0, to: group.indices.count, by: ScoringLimits.maxResponses) {
                let indices = Array(group.indices[start..<min(start + ScoringLimits.maxResponses, group.indices.count)])
                requests.append(
                    (
                        indices,
                        ScoringRequest(
                            input: group.input, responses: indices.map { items[$0].response },
                            options: options)
                    ))
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
        let service = self.service
        try await withThrowingTaskGroup(of: (Int, ScoringResult).self) { group in
            for (r, entry) in requests.enumerated() {
                group.addTask {
                    do {
                        return (r, try await service.score(entry.request, deadline: deadline))
                    } catch let ScoringError.invalidRequest(path, reason) {
                        guard let (key, index) = path.keyAndIndex, key == "responses", index < entry.indices.count
                        else {
                            throw ScoringError.invalidRequest(field: path, reason: reason)
                        }
                        throw ScoringError.invalidRequest(
                            field: FieldPath(field).index(entry.indices[index]), reason: reason)
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
                    judge = JudgeReport(
                        template: report.template, mode: report.mode, consistent: nil,
                        verdicts: (judge?.verdicts ?? []) + verdicts)
                }
                usages.append(result.usage)
                timing.queueMs = max(timing.queueMs, result.timings.queueMs)
                timing.computeMs = max(timing.computeMs, result.timings.computeMs)
            }
        }
        let head = labels.map {
            HeadOutputBody(labels: $0, rewardVectors: vectors, stepRewards: options.stepRewards ? steps : nil)
        }
        judge?.verdicts.sort { $0.shown.first ?? 0 < $1.shown.first ?? 0 }
        return GroupedScores(
            rewards: rewards, usage: UsageBody(summing: usages, responseTokens: responseTokens), timings: timing,
            head: head, judge: JudgeBody(judge))
    }

    struct GroupedScores {
        var rewards: [Double]
        var usage: UsageBody
        var timings: TimingsBody
        var head: HeadOutputBody?
        var judge: JudgeBody?
    }

    /// Engine time for clients (`Server-Timing`) and the context key for load balancers that route by it.
    func headers(_ t: TimingsBody, contextKey: String? = nil) -> HTTPHeaders {
        let (name, value) = ServerTiming.header(queueMs: t.queueMs, computeMs: t.computeMs)
        var headers = HTTPHeaders([(name, value)])
        if let contextKey { headers.add(name: "X-Context-Key", value: contextKey) }
        return headers
    }

    /// Every failure becomes an `APIError`, rendered once by `render`; nothing escapes as a crash.
    func respond(
        render: (APIError) -> HTTPResponse = HTTPResponse.error, _ body: () async throws -> HTTPResponse
    ) async -> HTTPResponse {
        do {
            return try await body()
        } catch let error as APIError {
            return render(error)
        } catch let error as ScoringError {
            return render(APIError(error, draining: lifecycle.isDraining))
        } catch is CancellationError {
            return render(APIError(ScoringError.cancelled, draining: lifecycle.isDraining))
        } catch {
            return render(APIError(.internal, "unexpected failure: \(error)"))
        }
    }
}

/// The API's own settings (the server's are in `ServerConfiguration`).
public struct APIConfiguration: Sendable {
    /// The method when a request names none; nil: the model's (classifier with a head, else likelihood).
    public var defaultMethod: ScoringMethod?
    /// The deadline of a request without `timeout_ms`, and of every `/get_reward` request.
    public var defaultTimeoutMs: Int = 600_000
    /// Served at `/openapi.json` when set.
    public var openAPIDocument: [UInt8]?

    public init() {}
}
