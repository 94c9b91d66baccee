import Foundation
import HTTPParser
import Server
import Testing

@Suite("HTTP/1.1 over real sockets", .serialized)
struct ProtocolTests {
    @Test func healthAnswersWithJSONAndARequestID() async throws {
        let t = try TestServer()
        let r = try await curl(["-i", "-H", "X-Request-Id: abc-123", "\(t.base)/health"])
        #expect(r.exitCode == 0)
        #expect(r.stdout.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(r.stdout.contains("Content-Type: application/json\r\n"))
        #expect(r.stdout.contains("X-Request-Id: abc-123\r\n"))
        #expect(r.stdout.hasSuffix("\r\n\r\n{\"status\":\"ok\"}"))

        let client = try await RawClient.connect(t.port)
        try await client.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        let response = try await client.readResponse()
        let generated = try #require(response.header("X-Request-Id"))
        #expect(!generated.isEmpty && generated != "abc-123")
        try await t.stop()
    }

    @Test func curlReusesTheConnectionForTwoURLs() async throws {
        let t = try TestServer()
        let r = try await curl([
            "-o", "/dev/null", "-o", "/dev/null", "-w", "%{http_code} %{num_connects}\\n",
            "\(t.base)/health", "\(t.base)/echo",
        ])
        #expect(r.exitCode == 0, "\(r.stderr)")
        #expect(r.stdout == "200 1\n200 0\n")
        try await t.stop()
    }

    @Test func connectionCloseAndHTTP10AreHonoured() async throws {
        let t = try TestServer()
        let a = try await RawClient.connect(t.port)
        try await a.send("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let ra = try await a.readResponse()
        #expect(ra.status == 200 && ra.header("Connection") == "close")
        #expect(try await a.readEndOfStream())

        let b = try await RawClient.connect(t.port)
        try await b.send("GET /health HTTP/1.0\r\n\r\n")
        let rb = try await b.readResponse()
        #expect(rb.status == 200 && rb.header("Connection") == "close")
        #expect(try await b.readEndOfStream())

        let c = try await RawClient.connect(t.port)
        try await c.send("GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        let rc1 = try await c.readResponse()
        #expect(rc1.header("Connection") == "keep-alive")
        try await c.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try await c.readResponse().status == 200)
        try await t.stop()
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        let t = try TestServer()
        let client = try await RawClient.connect(t.port)
        let requests = (1...3).map { "GET /echo?n=\($0) HTTP/1.1\r\nHost: x\r\n\r\n" }.joined()
        try await client.send(requests)
        for n in 1...3 {
            let response = try await client.readResponse()
            let summary = try JSONDecoder().decode(EchoSummary.self, from: Data(response.body))
            #expect(response.status == 200)
            #expect(summary.target == "/echo?n=\(n)")
        }
        try await t.stop()
    }

    @Test func headIsAnsweredLikeGetWithoutABody() async throws {
        let t = try TestServer()
        let client = try await RawClient.connect(t.port)
        try await client.send("HEAD /health HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        let head = try await client.readResponse(headOnly: true)
        #expect(head.status == 200 && head.header("Content-Length") == "15" && head.body.isEmpty)
        // The next response starts right after the head: no body bytes were written for HEAD.
        let get = try await client.readResponse()
        #expect(get.text == #"{"status":"ok"}"#)
        try await t.stop()
    }

    @Test func twoMebibyteBodyFromCurl() async throws {
        let t = try TestServer()
        let body = (0..<(2 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("longrm-body-\(UUID()).bin")
        try Data(body).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let r = try await curl([
            "-H", "Content-Type: application/octet-stream", "--data-binary", "@\(file.path)",
            "\(t.base)/echo",
        ])
        #expect(r.exitCode == 0, "\(r.stderr)")
        let summary = try JSONDecoder().decode(EchoSummary.self, from: Data(r.stdout.utf8))
        #expect(summary.length == body.count && summary.checksum == fnv1a(body))

        let chunked = try await curl([
            "-H", "Transfer-Encoding: chunked", "--data-binary", "@\(file.path)",
            "\(t.base)/echo",
        ])
        #expect(chunked.exitCode == 0, "\(chunked.stderr)")
        let chunkedSummary = try JSONDecoder().decode(EchoSummary.self, from: Data(chunked.stdout.utf8))
        #expect(chunkedSummary.length == body.count && chunkedSummary.checksum == fnv1a(body))
        try await t.stop()
    }

    @Test func continueIsWrittenBeforeTheBodyIsSent() async throws {
        let t = try TestServer()
        let client = try await RawClient.connect(t.port)
        let body = Array(repeating: UInt8(ascii: "x"), count: 3000)
        try await client.send(
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.count)\r\nExpect: 100-continue\r\n\r\n")
        let interim = try await client.readExactly(HTTPResponse.continueInterim.count)
        #expect(interim == HTTPResponse.continueInterim)
        try await client.send(body)
        let response = try await client.readResponse()
        let summary = try JSONDecoder().decode(EchoSummary.self, from: Data(response.body))
        #expect(response.status == 200 && summary.length == body.count)
        try await t.stop()
    }

    @Test func chunkedBodyOverARawSocket() async throws {
        let t = try TestServer()
        let client = try await RawClient.connect(t.port)
        try await client.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        try await client.send("6\r\n world\r\n0\r\n\r\n")
        let response = try await client.readResponse()
        let summary = try JSONDecoder().decode(EchoSummary.self, from: Data(response.body))
        #expect(summary.length == 11 && summary.checksum == fnv1a(Array("hello world".utf8)))
        try await t.stop()
    }
}
