import Synchronization

/// Per-request metrics: request counts by route, method and status, and latency histograms. One Mutex
/// acquisition per request (a few dictionary and array updates); scrapes copy the state under the same lock.
public final class RequestMetrics: RequestObserver {
    struct RequestKey: Hashable, Sendable {
        var route: String
        var method: String
        var status: Int
    }

    struct State: Sendable {
        var requests: [RequestKey: Int] = [:]
        var total: [String: MetricsHistogram] = [:]
        var queue: [String: MetricsHistogram] = [:]
        var compute: [String: MetricsHistogram] = [:]
        var requestBytes = 0
        var responseBytes = 0
    }

    private let state = Mutex(State())
    private let knownRoutes: Set<String>
    private let templates: [RouteTemplate]

    /// `knownRoutes` keeps label values bounded: a path not in it is counted as "other", and a refused message
    /// (no request) as "none".
    public init(knownRoutes: Set<String>) {
        self.knownRoutes = knownRoutes
        templates = knownRoutes.compactMap(RouteTemplate.init)
    }

    static let knownMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]

    public func requestFinished(_ record: RequestRecord) {
        let route =
            record.method == "-"
            ? "none"
            : knownRoutes.contains(record.path)
                ? record.path
                : templates.first { $0.parameter(in: Substring(record.path)) != nil }?.pattern ?? "other"
        let method = record.method == "-" ? "none" : Self.knownMethods.contains(record.method) ? record.method : "other"
        let key = RequestKey(route: route, method: method, status: record.status)
        let seconds = record.durationSeconds
        state.withLock { s in
            s.requests[key, default: 0] += 1
            s.total[route, default: MetricsHistogram()].observe(seconds)
            if let q = record.queueSeconds { s.queue[route, default: MetricsHistogram()].observe(q) }
            if let c = record.computeSeconds { s.compute[route, default: MetricsHistogram()].observe(c) }
            s.requestBytes += record.requestBodyBytes
            s.responseBytes += record.responseBodyBytes
        }
    }

    var snapshot: State { state.withLock { $0 } }

    /// Requests counted so far with this route (all methods and statuses): for tests and checks.
    public func requests(route: String) -> Int {
        state.withLock { s in s.requests.filter { $0.key.route == route }.values.reduce(0, +) }
    }

    func write(into out: inout MetricsText) {
        let s = snapshot
        out.family(
            "longrm_http_requests_total", type: "counter", help: "HTTP requests answered, by route, method and status.")
        for key in s.requests.keys.sorted(by: { ($0.route, $0.method, $0.status) < ($1.route, $1.method, $1.status) }) {
            out.sample(
                "longrm_http_requests_total",
                [("route", key.route), ("method", key.method), ("status", String(key.status))],
                s.requests[key]!)
        }
        out.family("longrm_http_request_body_bytes_total", type: "counter", help: "Request body bytes received.")
        out.sample("longrm_http_request_body_bytes_total", s.requestBytes)
        out.family("longrm_http_response_body_bytes_total", type: "counter", help: "Response body bytes written.")
        out.sample("longrm_http_response_body_bytes_total", s.responseBytes)
        histograms(
            &out, "longrm_http_request_duration_seconds",
            "Time from the complete request to the end of the response write, by route.", s.total)
        histograms(
            &out, "longrm_queue_wait_seconds", "Time scoring jobs waited in the engine queue, by route.", s.queue)
        histograms(
            &out, "longrm_compute_seconds", "Engine time (llama_decode batches) of scoring requests, by route.",
            s.compute)
    }

    private func histograms(
        _ out: inout MetricsText, _ name: String, _ help: String, _ byRoute: [String: MetricsHistogram]
    ) {
        out.family(name, type: "histogram", help: help)
        for route in byRoute.keys.sorted() { out.histogram(name, [("route", route)], byRoute[route]!) }
    }
}
