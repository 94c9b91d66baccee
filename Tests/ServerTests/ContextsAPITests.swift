import Foundation
import Scoring
import Server
import Testing

/// `POST/GET/DELETE /v1/contexts` routed and decoded in memory against the fake engine, held to openapi.json.
@Suite("Pinned contexts (in memory)")
struct ContextsInMemoryTests {
    @Test func pinListAndDelete() async throws {
        let server = InMemoryAPI()
        let pinned = await server.post("/v1/contexts", #"{"context":"A long document.","ttl_seconds":120}"#)
        #expect(pinned.status == 200, "\(pinned.text)")
        let json = try expectConforms(pinned, "POST", "/v1/contexts")
        let key = try #require(json["context_key"]?.string)
        #expect(pinned.header("X-Context-Key") == key)
        #expect((json["ttl_seconds"]?.number ?? 0) > 119 && (json["ttl_seconds"]?.number ?? 0) <= 120)
        #expect(json["method"]?.string == "likelihood")

        let list = await server.send("GET", "/v1/contexts")
        let listed = try expectConforms(list, "GET", "/v1/contexts")
        #expect(listed["data"]?.array?.compactMap { $0["context_key"]?.string } == [key])

        let deleted = await server.send("DELETE", "/v1/contexts/\(key)")
        #expect(try expectConforms(deleted, "DELETE", "/v1/contexts/{key}")["deleted"]?.bool == true)
        try expectError(
            await server.send("DELETE", "/v1/contexts/\(key)"), "DELETE", "/v1/contexts/{key}", status: 404,
            type: "not_found", field: "context_key")
        #expect(server.fake.pinnedContexts.isEmpty)
    }

    @Test func aFullBudgetIs507AndBadInputIs400() async throws {
        let server = InMemoryAPI()
        for context in ["one", "two"] {
            #expect(await server.post("/v1/contexts", #"{"context":"\#(context)"}"#).status == 200)
        }
        try expectError(
            await server.post("/v1/contexts", #"{"context":"three"}"#), "POST", "/v1/contexts", status: 507,
            type: "insufficient_storage", field: nil)
        try expectError(
            await server.post("/v1/contexts", #"{"context":"x","ttl_seconds":0}"#), "POST", "/v1/contexts",
            status: 400, type: "bad_request", field: "ttl_seconds")
        try expectError(
            await server.post("/v1/contexts", #"{"context":"x","responses":["a"]}"#), "POST", "/v1/contexts",
            status: 400, type: "bad_request", field: "responses")
        try expectError(
            await server.post("/v1/contexts", #"{"ttl_seconds":5}"#), "POST", "/v1/contexts", status: 400,
            type: "bad_request", field: "prompt")
        // Only DELETE is routed under /v1/contexts/{key}.
        #expect(await server.send("GET", "/v1/contexts/abc").status == 405)
        #expect(await server.send("DELETE", "/v1/contexts/").status == 404)
    }
}

@Suite("Route templates")
struct RouteTemplateTests {
    @Test func aTrailingParameterMatchesOneNonEmptySegment() throws {
        let template = try #require(RouteTemplate("/v1/contexts/{key}"))
        #expect(template.parameter(in: "/v1/contexts/9c1e") == "9c1e")
        #expect(template.parameter(in: "/v1/contexts/") == nil)
        #expect(template.parameter(in: "/v1/contexts/a/b") == nil)
        #expect(template.parameter(in: "/v1/contexts") == nil)
        #expect(RouteTemplate("/v1/contexts") == nil && RouteTemplate("/v1/x{key}") == nil)
    }

    @Test func metricsCountATemplatedRouteUnderItsPattern() {
        let recorder = RequestMetrics(knownRoutes: ["/v1/contexts/{key}", "/v1/models"])
        for path in ["/v1/contexts/abc", "/v1/contexts/def", "/elsewhere"] {
            recorder.requestFinished(
                RequestRecord(method: "DELETE", path: path, status: 404))
        }
        #expect(recorder.requests(route: "/v1/contexts/{key}") == 2)
        #expect(recorder.requests(route: "other") == 1)
    }
}

/// The same over a real socket with curl and the real engine: a pinned context is reused by a scoring request
/// that sends it, with the rewards a server without the pin gives.
@Suite("Pinned contexts (live)", .serialized)
struct ContextsLiveTests {
    @Test func curlPinsScoresAndUnpins() async throws {
        let scorer = try await Scorer.load(modelPath: APIFixture.modelPath, configuration: APIFixture.engine)
        let server = try APIServer(service: scorer)
        defer { scorer.shutdown() }
        let base = "http://127.0.0.1:\(server.port)"
        let context = fillerContext(words: 600, seed: 7, fact: "The ferry to the island leaves at 06:40.")
        let pin = try await curl([
            "--max-time", "600", "-X", "POST", "-H", "Content-Type: application/json",
            "--data", #"{"context":\#(jsonString(context)),"ttl_seconds":300}"#, base + "/v1/contexts",
        ])
        let pinned = try JSONValue.parse(Array(pin.stdout.utf8))
        let key = try #require(pinned["context_key"]?.string, "\(pin.stdout) \(pin.stderr)")
        let tokens = try #require(pinned["tokens"]?.int)
        #expect(tokens > 600 && pinned["usage"]?["computed_tokens"]?.int == tokens)

        let body = """
            {"context":\(jsonString(context)),"prompt":"When does the ferry leave?",
             "responses":["At 06:40.","At 09:15."]}
            """
        let scored = try await server.post("/v1/pairwise", body)
        let json = try expectConforms(scored, "POST", "/v1/pairwise")
        #expect((json["usage"]?["reused_prompt_tokens"]?.int ?? 0) >= 512, "\(scored.text)")
        // The same request on the shared test server, which never saw the pin.
        let reference = try await APIFixture.server().post("/v1/pairwise", body)
        #expect(json["rewards"] == (try JSONValue.parse(reference.body))["rewards"])

        let list = try await curl([base + "/v1/contexts"])
        #expect(list.stdout.contains(key))
        let delete = try await curl([
            "-X", "DELETE", "-w", "%{http_code}", "-o", "/dev/null", base + "/v1/contexts/\(key)",
        ])
        #expect(delete.stdout == "200")
        let again = try await curl([
            "-X", "DELETE", "-w", "%{http_code}", "-o", "/dev/null", base + "/v1/contexts/\(key)",
        ])
        #expect(again.stdout == "404")
        try await server.stop()
    }
}
