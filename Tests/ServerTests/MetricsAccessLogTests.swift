import Foundation
import HTTPParser
import Logging
import Server
import Testing

@Suite("Structured logs and the access log", .serialized)
struct MetricsAccessLogTests {
    @Test func logfmtQuotesWhatNeedsQuotingAndKeepsAccessFieldsFirst() {
        let line = LogLine.render(
            format: .logfmt, time: "T", level: "info", label: "longrm.access", message: "request",
            fields: ["zeta": "1", "path": "/a b", "method": "POST", "note": "say \"hi\"\nbye", "empty": ""])
        #expect(
            line
                == #"ts=T level=info logger=longrm.access msg=request method=POST path="/a b" empty="" note="say \"hi\"\nbye" zeta=1"#
        )
    }

    @Test func jsonLinesParseAndKeepNumbersNumeric() throws {
        let line = LogLine.render(
            format: .json, time: "T", level: "info", label: "l", message: "m\t\u{1}",
            fields: [
                "status": .stringConvertible(200), "ok": .stringConvertible(true), "ms": .stringConvertible(1.5),
                "list": .array(["a", "b"]), "msg": "shadow",
            ])
        let object = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["msg"] as? String == "m\t\u{1}")
        #expect(object["status"] as? Int == 200)
        #expect(object["ok"] as? Bool == true)
        #expect(object["ms"] as? Double == 1.5)
        #expect(object["list"] as? [String] == ["a", "b"])
        #expect(!line.contains("\n"))
    }

    @Test func timestampIsUTCWithMilliseconds() {
        let ts = LogLine.utcTimestamp()
        #expect(ts.count == 24 && ts.hasSuffix("Z"))
        #expect(ts.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"#, options: .regularExpression) != nil)
    }

    @Test func oneAccessLinePerRequestWithoutBodyOrKey() async throws {
        let t = try ObservedServer(format: .json, apiKey: "key-must-not-leak")
        let auth = ["-H", "Authorization: Bearer key-must-not-leak"]
        let body = #"{"prompt":"secret_body_marker","responses":["a","b"]}"#
        let first = try await curl(
            auth + [
                "-s", "-o", "/dev/null", "-w", "%{size_download}", "-H", "X-Request-Id: rid-1", "-d", body,
                "\(t.base)/v1/best-of-n?token=q-must-not-leak",
            ])
        _ = try await curl(["-s", "-o", "/dev/null", "-H", "X-Request-Id: rid-2", "-d", body, "\(t.base)/v1/best-of-n"])
        _ = try await curl(auth + ["-s", "-o", "/dev/null", "-H", "X-Request-Id: rid-3", "\(t.base)/nowhere"])
        try await t.stop()

        let lines = t.logLines
        #expect(lines.count == 3)
        let objects = try lines.map {
            try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(objects.map { $0["request_id"] as? String } == ["rid-1", "rid-2", "rid-3"])
        #expect(objects.map { $0["status"] as? Int } == [200, 401, 404])
        #expect(objects.allSatisfy { $0["msg"] as? String == "request" && $0["logger"] as? String == "longrm.access" })
        #expect(objects[0]["path"] as? String == "/v1/best-of-n")
        #expect(objects[0]["method"] as? String == "POST")
        #expect(objects[0]["req_bytes"] as? Int == body.utf8.count)
        #expect(objects[0]["bytes"] as? Int == Int(first.stdout))
        #expect(objects[0]["compute_ms"] as? Double == FakeScoringService.computeMs)
        #expect(objects[0]["queue_ms"] as? Double == FakeScoringService.queueMs)
        #expect(objects[0]["context_key"] as? String == FakeScoringService.contextKey)
        #expect((objects[0]["duration_ms"] as? Double ?? -1) >= 0)
        #expect((objects[0]["remote"] as? String)?.hasPrefix("127.0.0.1:") == true)
        #expect(objects[1]["compute_ms"] == nil)
        for line in lines {
            #expect(!line.contains("key-must-not-leak"))
            #expect(!line.contains("secret_body_marker"))
            #expect(!line.contains("q-must-not-leak"))
        }
    }

    @Test func refusedMessagesAreLoggedToo() async throws {
        let t = try ObservedServer()
        let client = try await RawClient.connect(t.port)
        try await client.send("GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\nBad Header\r\n\r\n")
        let response = try await client.readResponse()
        #expect(response.status == 400)
        try await t.stop()
        let lines = t.logLines
        #expect(lines.count == 1)
        #expect(lines.first?.contains("method=- path=- status=400") == true)
        let scrape = t.metrics.render()
        #expect(sampleValue(scrape, #"longrm_http_requests_total{route="none",method="none",status="400"}"#) == 1)
    }
}
