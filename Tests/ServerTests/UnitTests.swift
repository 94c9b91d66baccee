import Foundation
import HTTPParser
import Scoring
import Testing

@testable import Server

@Suite("Router, auth and helpers")
struct UnitTests {
    private func request(_ method: String, _ target: String, _ headers: [(String, String)] = []) -> HTTPRequest {
        HTTPRequest(method: method, target: target, version: .http11, headers: HTTPHeaders(headers))
    }

    @Test func routerResolvesHeadToGetAndListsAllowedMethods() {
        var router = Router()
        router.get("/a") { _, _ in HTTPResponse(status: 200) }
        router.post("/b") { _, _ in HTTPResponse(status: 201) }
        guard case .handler(_, true) = router.resolve(method: "HEAD", path: "/a") else {
            Issue.record("HEAD /a"); return
        }
        guard case .notFound = router.resolve(method: "GET", path: "/c") else { Issue.record("GET /c"); return }
        guard case .methodNotAllowed(let allow) = router.resolve(method: "GET", path: "/b") else {
            Issue.record("GET /b"); return
        }
        #expect(allow == "OPTIONS, POST")
        guard case .options(let allowA) = router.resolve(method: "OPTIONS", path: "/a") else {
            Issue.record("OPTIONS /a"); return
        }
        #expect(allowA == "GET, HEAD, OPTIONS")
        router.get("/quick", watchesPeer: false) { _, _ in HTTPResponse(status: 200) }
        guard case .handler(_, false) = router.resolve(method: "HEAD", path: "/quick") else {
            Issue.record("HEAD /quick should not watch the peer"); return
        }
    }

    @Test func bearerKeyIsComparedExactly() {
        let auth = APIKeyAuth(key: "k3y", exemptPaths: ["/health"])
        #expect(auth.isAuthorized(request("GET", "/x", [("Authorization", "Bearer k3y")])))
        #expect(auth.isAuthorized(request("GET", "/x", [("Authorization", "bearer k3y")])))
        #expect(!auth.isAuthorized(request("GET", "/x", [("Authorization", "Bearer k3")])))
        #expect(!auth.isAuthorized(request("GET", "/x", [("Authorization", "Bearer k3yy")])))
        #expect(!auth.isAuthorized(request("GET", "/x", [("Authorization", "Basic k3y")])))
        #expect(!auth.isAuthorized(request("GET", "/x")))
        #expect(auth.isAuthorized(request("GET", "/health?verbose=1")))
        #expect(APIKeyAuth.constantTimeEquals([], []))
        #expect(!APIKeyAuth.constantTimeEquals([1], []))
    }

    @Test func errorJSONEncodesTypeMessageAndOptionalField() throws {
        let response = HTTPResponse.error(.badRequest("bad \"x\"", field: FieldPath("responses").index(3).key("text")))
        #expect(response.status == 400)
        #expect(response.headers["Content-Type"] == "application/json")
        let decoded = try decodeError(response.body)
        #expect(decoded == ErrorBody(type: "bad_request", message: "bad \"x\"", field: "responses[3].text"))
        let full = HTTPResponse.error(APIError(.queueFull, "busy", retryAfterSeconds: 2))
        #expect(full.status == 429 && full.headers["Retry-After"] == "2")
        #expect(String(decoding: full.body, as: UTF8.self) == #"{"error":{"message":"busy","type":"queue_full"}}"#)
        #expect(APIError(HTTPParseError.bodyTooLarge(limit: 5)).type == "payload_too_large")
        #expect(APIError(HTTPParseError.lengthRequired).status == 411)
    }

    @Test func dateIsIMFFixdate() {
        #expect(HTTPDate.format(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.format(1_784_000_000) == "Tue, 14 Jul 2026 03:33:20 GMT")
    }

    @Test func requestIDHonoursSaneIncomingValuesOnly() {
        #expect(RequestID.make(for: request("GET", "/", [("X-Request-Id", "abc-1")])) == "abc-1")
        let generated = RequestID.make(for: request("GET", "/", [("X-Request-Id", "has space")]))
        #expect(generated != "has space" && RequestID.isAcceptable(generated))
        #expect(RequestID.make(for: request("GET", "/")) != RequestID.make(for: request("GET", "/")))
    }
}
