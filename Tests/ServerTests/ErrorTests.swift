import Foundation
import HTTPParser
import Server
import Testing

@Suite("Routing, errors and the API key", .serialized)
struct ErrorTests {
    @Test func unknownPathIs404AndKnownPathWithOtherMethodIs405WithAllow() async throws {
        let t = try TestServer()
        let client = try await RawClient.connect(t.port)
        try await client.send("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
        let notFound = try await client.readResponse()
        #expect(notFound.status == 404)
        #expect(notFound.header("Content-Type") == "application/json")
        #expect(try decodeError(notFound.body).error.type == "not_found")

        try await client.send("DELETE /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        let notAllowed = try await client.readResponse()
        #expect(notAllowed.status == 405)
        #expect(notAllowed.header("Allow") == "GET, HEAD, OPTIONS, POST")
        #expect(try decodeError(notAllowed.body).error.type == "method_not_allowed")

        try await client.send("OPTIONS /health HTTP/1.1\r\nHost: x\r\n\r\n")
        let options = try await client.readResponse()
        #expect(options.status == 204 && options.header("Allow") == "GET, HEAD, OPTIONS")
        try await t.stop()
    }

    @Test func errorBodyHasTheSharedShape() async throws {
        let t = try TestServer()
        let r = try await curl(["-i", "\(t.base)/missing"])
        let json = try #require(r.stdout.components(separatedBy: "\r\n\r\n").last)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object.keys.sorted() == ["error"])
        let error = try #require(object["error"] as? [String: Any])
        #expect(error["type"] as? String == "not_found")
        #expect((error["message"] as? String)?.isEmpty == false)
        try await t.stop()
    }

    @Test func malformedRequestGetsItsStatusErrorJSONAndClose() async throws {
        let t = try TestServer { $0.limits = HTTPLimits(maxBodyBytes: 1000) }
        let cases: [(String, Int, String)] = [
            ("GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 400, "bad_request"),
            ("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n", 413, "payload_too_large"),
            ("GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, "http_version_not_supported"),
        ]
        for (request, status, type) in cases {
            let client = try await RawClient.connect(t.port)
            try await client.send(request)
            let response = try await client.readResponse()
            #expect(response.status == status, "\(request)")
            #expect(response.header("Connection") == "close")
            #expect(try decodeError(response.body).error.type == type)
            #expect(try await client.readEndOfStream())
        }
        try await t.stop()
    }

    @Test func apiKeyIsRequiredExceptOnHealth() async throws {
        let t = try TestServer { $0.apiKey = "s3cret" }
        let missing = try await curl(["-i", "\(t.base)/echo"])
        #expect(missing.stdout.hasPrefix("HTTP/1.1 401 "))
        #expect(missing.stdout.contains("WWW-Authenticate: Bearer\r\n"))
        #expect(missing.stdout.contains(#""type":"unauthorized""#))

        let wrong = try await curl([
            "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer s3cres",
            "\(t.base)/echo",
        ])
        #expect(wrong.stdout == "401")
        let right = try await curl([
            "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer s3cret",
            "\(t.base)/echo",
        ])
        #expect(right.stdout == "200")
        let health = try await curl(["-o", "/dev/null", "-w", "%{http_code}", "\(t.base)/health"])
        #expect(health.stdout == "200")
        try await t.stop()
    }
}
