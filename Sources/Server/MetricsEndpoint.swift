import HTTPParser
import Scoring
import Synchronization

/// `GET /metrics`: the per-request metrics plus gauges and engine counters read at scrape time (queue,
/// running jobs, tokens, batches, open connections), so nothing on the scoring path updates them twice.
public final class MetricsEndpoint: Sendable {
    public static let path = "/metrics"

    public let requests: RequestMetrics
    private let service: (any ScoringService)?
    private let lifecycle: ServerLifecycle
    private let server = Mutex(ServerRef())

    private struct ServerRef: Sendable { weak var server: HTTPServer? }

    public init(requests: RequestMetrics, service: (any ScoringService)?, lifecycle: ServerLifecycle) {
        self.requests = requests; self.service = service; self.lifecycle = lifecycle
    }

    /// The server whose open connections are reported (it is created after the router that serves this).
    public func attach(_ server: HTTPServer) { self.server.withLock { $0.server = server } }

    public var endpoint: Endpoint {
        Endpoint("GET", Self.path, isProbe: true, watchesPeer: false) { [self] _, _ in
            HTTPResponse(
                status: 200, headers: HTTPHeaders([("Content-Type", MetricsText.contentType)]),
                body: Array(render().utf8))
        }
    }

    public func render() -> String {
        var out = MetricsText()
        requests.write(into: &out)
        if let service { engine(service, &out) }
        let open = server.withLock { $0.server?.openConnections } ?? 0
        out.family("longrm_open_connections", type: "gauge", help: "Client connections open now.")
        out.sample("longrm_open_connections", open)
        out.family("longrm_draining", type: "gauge", help: "1 once a graceful shutdown has started.")
        out.sample("longrm_draining", lifecycle.isDraining ? 1 : 0)
        return out.text
    }

    private func engine(_ service: any ScoringService, _ out: inout MetricsText) {
        let q = service.queue
        let info = service.info
        out.family(
            "longrm_tokens_computed_total", type: "counter",
            help: "Tokens run through the model (prompt parts not in the cache, and responses).")
        out.sample("longrm_tokens_computed_total", q.computedTokens)
        out.family(
            "longrm_tokens_reused_total", type: "counter",
            help: "Prompt tokens whose KV cache came from an earlier request.")
        out.sample("longrm_tokens_reused_total", q.reusedTokens)
        out.family(
            "longrm_prefix_cache_hit_ratio", type: "gauge",
            help: "Reused / (reused + computed) tokens since start; 0 before any work.")
        let processed = q.reusedTokens + q.computedTokens
        out.sample("longrm_prefix_cache_hit_ratio", processed > 0 ? Double(q.reusedTokens) / Double(processed) : 0)
        out.family(
            "longrm_engine_batches_total", type: "counter", help: "Engine batches executed (one or more jobs each).")
        out.sample("longrm_engine_batches_total", q.batches)
        out.family(
            "longrm_engine_batched_jobs_total", type: "counter",
            help: "Jobs executed in batches; divided by batches, the mean batch size.")
        out.sample("longrm_engine_batched_jobs_total", q.batchedJobs)
        out.family("longrm_queue_requests", type: "gauge", help: "Scoring jobs waiting in the engine queue.")
        out.sample("longrm_queue_requests", q.queuedRequests)
        out.family("longrm_queue_tokens", type: "gauge", help: "Tokens of the scoring jobs waiting in the queue.")
        out.sample("longrm_queue_tokens", q.queuedTokens)
        out.family(
            "longrm_queue_saturated", type: "gauge",
            help: "1 while the queue limits are reached (new requests get 429, /ready 503).")
        out.sample("longrm_queue_saturated", q.saturated ? 1 : 0)
        out.family("longrm_running_jobs", type: "gauge", help: "Scoring jobs being computed now.")
        out.sample("longrm_running_jobs", q.runningJobs)
        out.family("longrm_engine_workers", type: "gauge", help: "Engine workers (llama.cpp contexts).")
        out.sample("longrm_engine_workers", info.engineWorkers)
        out.family("longrm_model_load_seconds", type: "gauge", help: "Seconds the model took to load at start.")
        out.sample("longrm_model_load_seconds", info.loadSeconds)
        out.family(
            "longrm_model_info", type: "gauge", help: "The model served (value 1), with its context window in tokens.")
        out.sample("longrm_model_info", [("model", info.modelName), ("window", String(info.window))], 1)
        out.family(
            "longrm_build_info", type: "gauge",
            help: "The engine build (value 1): the llama.cpp CPU variant computing (libggml-cpu-<variant>.so).")
        out.sample("longrm_build_info", [("cpu_variant", info.cpuVariant)], 1)
    }
}
