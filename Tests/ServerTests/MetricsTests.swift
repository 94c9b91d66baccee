import Foundation
import HTTPParser
import Logging
import Server
import Synchronization
import Testing

/// The application on the fake engine behind a real socket, with a recording access log.
final class ObservedServer: Sendable {
    let api: APIServer
    let fake: FakeScoringService
    let lines: LogLines

    init(format: LogFormat = .logfmt, apiKey: String? = nil) throws {
        let lines = LogLines(), fake = FakeScoringService()
        self.lines = lines
        self.fake = fake
        let access = Logger(label: "longrm.access") { label in
            StructuredLogHandler(label: label, format: format, level: .info) { line in lines.append(line) }
        }
        api = try APIServer(service: fake) { config in
            config.server.apiKey = apiKey
            config.accessLog = true
            config.accessLogger = access
        }
    }

    var port: Int { api.port }
    var metrics: MetricsEndpoint { api.app.metrics }
    var base: String { "http://127.0.0.1:\(port)" }
    var logLines: [String] { lines.all }

    func stop() async throws { try await api.stop() }
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
        let requests = RequestMetrics(knownRoutes: ["/x"])
        for ms in [0.5, 3.0, 3.0, 700.0] {
            requests.requestFinished(
                RequestRecord(method: "GET", path: "/x", status: 200, duration: .microseconds(Int(ms * 1000))))
        }
        let endpoint = MetricsEndpoint(requests: requests, service: nil, lifecycle: ServerLifecycle())
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
        let requests = RequestMetrics(knownRoutes: ["/known"])
        requests.requestFinished(RequestRecord(method: "GET", path: "/known", status: 200))
        requests.requestFinished(RequestRecord(method: "GET", path: "/random-\(UUID())", status: 404))
        requests.requestFinished(RequestRecord(method: "BREW", path: "/known", status: 405))
        requests.requestFinished(RequestRecord(method: "-", path: "-", status: 400))
        let text = MetricsEndpoint(requests: requests, service: nil, lifecycle: ServerLifecycle()).render()
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

    @Test func liveScrapeCountsRequestsStatusesAndEngineTime() async throws {
        let t = try ObservedServer(apiKey: "sekrit")
        let auth = ["-H", "Authorization: Bearer sekrit"]
        let body = #"{"items":[{"prompt":"q","response":"a"}]}"#
        for _ in 0..<3 {
            let r = try await curl(
                auth + ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-d", body, "\(t.base)/v1/score"])
            #expect(r.stdout == "200")
        }
        t.fake.fail(with: .engineFailure("boom"))
        let failed = try await curl(
            auth + ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-d", body, "\(t.base)/v1/score"])
        #expect(failed.stdout == "500")
        #expect(try await curl(["-s", "-o", "/dev/null", "-w", "%{http_code}", "\(t.base)/v1/models"]).stdout == "401")
        _ = try await curl(["-s", "-o", "/dev/null", "\(t.base)/metrics"])
        let scrape = try await curl(["-s", "-D", "-", "\(t.base)/metrics"])
        let text = scrape.stdout
        #expect(text.lowercased().contains("content-type: text/plain; version=0.0.4"))
        #expect(sampleValue(text, #"longrm_http_requests_total{route="/v1/score",method="POST",status="200"}"#) == 3)
        #expect(sampleValue(text, #"longrm_http_requests_total{route="/v1/score",method="POST",status="500"}"#) == 1)
        #expect(sampleValue(text, #"longrm_http_requests_total{route="/v1/models",method="GET",status="401"}"#) == 1)
        // The first scrape is counted under its own route, not "other".
        #expect(sampleValue(text, #"longrm_http_requests_total{route="/metrics",method="GET",status="200"}"#) == 1)
        #expect(!text.contains(#"route="other""#))
        #expect(sampleValue(text, #"longrm_compute_seconds_count{route="/v1/score"}"#) == 3)
        #expect(sampleValue(text, #"longrm_compute_seconds_sum{route="/v1/score"}"#) == 0.75)
        #expect(sampleValue(text, #"longrm_queue_wait_seconds_bucket{route="/v1/score",le="0.0025"}"#) == 3)
        #expect(sampleValue(text, "longrm_http_request_body_bytes_total") == Double(4 * body.utf8.count))
        #expect(sampleValue(text, "longrm_engine_workers") == 3)
        #expect(sampleValue(text, #"longrm_model_info{model="fake-model",window="2048"}"#) == 1)
        // The scrape's own connection is open while it is rendered.
        #expect((sampleValue(text, "longrm_open_connections") ?? 0) >= 1)
        #expect(sampleValue(text, "longrm_draining") == 0)
        try await t.stop()
    }
}
