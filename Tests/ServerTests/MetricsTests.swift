import Foundation
import HTTPParser
import Logging
import Server
import Synchronization
import Testing

/// An in-process server with /metrics, a JSON route that reports engine time, and a recording log sink.
final class ObservedServer: Sendable {
    let server: HTTPServer
    let port: Int
    let metrics: MetricsEndpoint
    let lines = LogLines()
    private let task: Task<Void, any Error>

    init(format: LogFormat = .logfmt, apiKey: String? = nil) throws {
        let lifecycle = ServerLifecycle()
        var router = Router()
        router.post("/v1/score") { request, _ in
            let (name, value) = ServerTiming.header(queueMs: 1.5, computeMs: 250)
            return .json(status: 200, bytes: Array(#"{"n":\#(request.body.count)}"#.utf8),
                         headers: HTTPHeaders([(name, value), ("X-Context-Key", "ctx-abc")]))
        }
        router.get("/fail") { _, _ in .error(status: 500, message: "boom") }
        let known = router
        let requests = RequestMetrics { known.hasRoute("GET", $0) || known.hasRoute("POST", $0) || $0 == MetricsEndpoint.path }
        metrics = MetricsEndpoint(requests: requests, scorer: nil, lifecycle: lifecycle)
        metrics.register(into: &router)

        var config = ServerConfiguration(host: "127.0.0.1", port: 0)
        config.handleSignals = false
        config.apiKey = apiKey
        config.authExemptPaths = [HealthHandler.path, MetricsEndpoint.path]
        let lines = self.lines
        let access = Logger(label: "longrm.access") { label in
            StructuredLogHandler(label: label, format: format, level: .info) { line in lines.append(line) }
        }
        config.observer = RequestObservers([requests, AccessLog(logger: access)])
        var logger = Logger(label: "test.server")
        logger.logLevel = .warning
        server = HTTPServer(configuration: config, router: router, lifecycle: lifecycle, logger: logger)
        metrics.attach(server)
        port = try server.bind()
        task = Task { [server] in try await server.run() }
    }

    var base: String { "http://127.0.0.1:\(port)" }
    var logLines: [String] { lines.all }

    func stop() async throws {
        server.shutdown()
        try await task.value
    }
}

/// Log lines a test handler received.
final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

/// Sample value by exact series text (`name{labels}`), from a scrape.
func sampleValue(_ text: String, _ series: String) -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
        return Double(line.dropFirst(series.count + 1))
    }
    return nil
}

@Suite("Metrics", .serialized)
struct ServerMetricsTests {
    @Test func histogramBucketsAreCumulativeAndEndWithInf() {
        let requests = RequestMetrics { _ in true }
        for ms in [0.5, 3.0, 3.0, 700.0] {
            requests.requestFinished(RequestRecord(method: "GET", path: "/x", status: 200, duration: .microseconds(Int(ms * 1000))))
        }
        let endpoint = MetricsEndpoint(requests: requests, scorer: nil, lifecycle: ServerLifecycle())
        let text = endpoint.render()
        let h = "longrm_http_request_duration_seconds"
        #expect(sampleValue(text, "\(h)_bucket{route=\"/x\",le=\"0.001\"}") == 1)
        #expect(sampleValue(text, "\(h)_bucket{route=\"/x\",le=\"0.005\"}") == 3)
        #expect(sampleValue(text, "\(h)_bucket{route=\"/x\",le=\"0.5\"}") == 3)
        #expect(sampleValue(text, "\(h)_bucket{route=\"/x\",le=\"1\"}") == 4)
        #expect(sampleValue(text, "\(h)_bucket{route=\"/x\",le=\"+Inf\"}") == 4)
        #expect(sampleValue(text, "\(h)_count{route=\"/x\"}") == 4)
        let sum = sampleValue(text, "\(h)_sum{route=\"/x\"}") ?? 0
        #expect(abs(sum - 0.7065) < 1e-9)
        #expect(text.contains("# TYPE \(h) histogram\n"))
    }

    @Test func unknownPathsAndMethodsAreBucketedToKeepLabelsBounded() {
        let requests = RequestMetrics { $0 == "/known" }
        requests.requestFinished(RequestRecord(method: "GET", path: "/known", status: 200))
        requests.requestFinished(RequestRecord(method: "GET", path: "/random-\(UUID())", status: 404))
        requests.requestFinished(RequestRecord(method: "BREW", path: "/known", status: 405))
        requests.requestFinished(RequestRecord(method: "-", path: "-", status: 400))
        let text = MetricsEndpoint(requests: requests, scorer: nil, lifecycle: ServerLifecycle()).render()
        #expect(sampleValue(text, #"longrm_http_requests_total{route="/known",method="GET",status="200"}"#) == 1)
        #expect(sampleValue(text, #"longrm_http_requests_total{route="other",method="GET",status="404"}"#) == 1)
        #expect(sampleValue(text, #"longrm_http_requests_total{route="/known",method="other",status="405"}"#) == 1)
        #expect(sampleValue(text, #"longrm_http_requests_total{route="none",method="none",status="400"}"#) == 1)
        #expect(!text.contains("random-"))
    }

    @Test func labelValuesAreEscaped() {
        var out = MetricsText()
        out.sample("m", [("k", "a\"b\\c\nd")], 1)
        #expect(out.text == "m{k=\"a\\\"b\\\\c\\nd\"} 1\n")
    }

    @Test func serverTimingRoundTrips() {
        let (name, value) = ServerTiming.header(queueMs: 12.3456, computeMs: 0)
        #expect(name == "Server-Timing")
        let parsed = ServerTiming.parse(value)
        #expect(parsed["queue"] == 12.346 && parsed["compute"] == 0)
        #expect(ServerTiming.parse("a;desc=x, b;dur=nope, c ; dur=5")["c"] == 5)
        #expect(ServerTiming.parse("a;desc=x, b;dur=nope").isEmpty)
    }

    @Test func liveScrapeCountsRequestsStatusesAndEngineTime() async throws {
        let t = try ObservedServer(apiKey: "sekrit")
        let auth = ["-H", "Authorization: Bearer sekrit"]
        for _ in 0..<3 {
            let r = try await curl(auth + ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-d", "{}", "\(t.base)/v1/score"])
            #expect(r.stdout == "200")
        }
        #expect(try await curl(auth + ["-s", "-o", "/dev/null", "-w", "%{http_code}", "\(t.base)/fail"]).stdout == "500")
        #expect(try await curl(["-s", "-o", "/dev/null", "-w", "%{http_code}", "\(t.base)/fail"]).stdout == "401")
        let scrape = try await curl(["-s", "-D", "-", "\(t.base)/metrics"])
        let text = scrape.stdout
        #expect(text.lowercased().contains("content-type: text/plain; version=0.0.4"))
        #expect(sampleValue(text, #"longrm_http_requests_total{route="/v1/score",method="POST",status="200"}"#) == 3)
        #expect(sampleValue(text, #"longrm_http_requests_total{route="/fail",method="GET",status="500"}"#) == 1)
        #expect(sampleValue(text, #"longrm_http_requests_total{route="/fail",method="GET",status="401"}"#) == 1)
        #expect(sampleValue(text, #"longrm_compute_seconds_count{route="/v1/score"}"#) == 3)
        #expect(sampleValue(text, #"longrm_compute_seconds_sum{route="/v1/score"}"#) == 0.75)
        #expect(sampleValue(text, #"longrm_queue_wait_seconds_bucket{route="/v1/score",le="0.0025"}"#) == 3)
        #expect(sampleValue(text, "longrm_http_request_body_bytes_total") == 6)
        // The scrape's own connection is open while it is rendered.
        #expect((sampleValue(text, "longrm_open_connections") ?? 0) >= 1)
        #expect(sampleValue(text, "longrm_draining") == 0)
        try await t.stop()
    }
}
