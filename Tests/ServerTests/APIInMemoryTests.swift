import Foundation
import HTTPParser
import Scoring
import Server
import Testing

/// Every endpoint routed and decoded in memory against the fake engine: what the handlers hand to the engine,
/// what they make of its results, and conformance to openapi.json. No model, no socket.
@Suite("Scoring API: endpoints (in memory)")
struct APIInMemoryTests {
    @Test func pairwiseHandsTheRequestOverAndReportsTheResult() async throws {
        let server = InMemoryAPI()
        let response = await server.post(
            "/v1/pairwise",
            """
            {"context":"C","prompt":"Q","responses":["short","much longer"],"normalize":"sum","truncation":"middle","timeout_ms":5000}
            """)
        #expect(response.status == 200, "\(response.text)")
        let json = try expectConforms(response, "POST", "/v1/pairwise")
        let expected = ["short", "much longer"].map(FakeScoringService.reward)
        #expect(json["rewards"]?.numbers == expected)
        #expect(json["preferred"]?.int == 0 && json["margin"]?.number == expected[0] - expected[1])
        #expect(json["model"]?.string == "fake-model" && json["normalize"]?.string == "sum")
        #expect(json["timings"]?["compute_ms"]?.number == FakeScoringService.computeMs)
        #expect(response.header("X-Context-Key") == FakeScoringService.contextKey)
        #expect(response.header("Server-Timing") == "queue;dur=1.500, compute;dur=250.000")
        let request = try #require(server.fake.received.first)
        #expect(request.input == .contextPrompt(context: "C", prompt: "Q"))
        #expect(request.options == ScoringOptions(method: .likelihood, normalization: .sum, truncation: .middle))
    }

    @Test func bestOfNRanksByReward() async throws {
        let server = InMemoryAPI()
        let response = await server.post(
            "/v1/best-of-n",
            """
            {"messages":[{"role":"user","content":"q"}],"responses":["ccc","a","bb"],"method":"judge"}
            """)
        #expect(response.status == 200, "\(response.text)")
        let json = try expectConforms(response, "POST", "/v1/best-of-n")
        #expect(json["ranking"] == .array([.number(1), .number(2), .number(0)]) && json["best"]?.int == 1)
        #expect(server.fake.received.first?.input == .messages([ChatMessage(role: "user", content: "q")]))
        #expect(server.fake.received.first?.options.method == .judge)
    }

    @Test func scoreGroupsItemsByPromptAndKeepsTheirOrder() async throws {
        let server = InMemoryAPI()
        let response = await server.post(
            "/v1/score",
            """
            {"items":[{"prompt":"p","response":"aaaa"},{"prompt":"q","response":"b"},{"prompt":"p","response":"cc"}]}
            """)
        #expect(response.status == 200, "\(response.text)")
        let json = try expectConforms(response, "POST", "/v1/score")
        #expect(json["rewards"]?.numbers == ["aaaa", "b", "cc"].map(FakeScoringService.reward))
        #expect(server.fake.received.count == 2, "items with the same prompt are one engine request")
        let empty = await server.post("/v1/score", #"{"items":[]}"#)
        #expect(try expectConforms(empty, "POST", "/v1/score")["rewards"] == .array([]))
    }

    @Test func getRewardSplitsThePromptOffAndAnswersAnEmptyListWith200() async throws {
        let server = InMemoryAPI()
        let response = await server.post("/get_reward", #"{"query":["Q: A1","Q: A22"],"prompts":["Q:","Q:"]}"#)
        let json = try expectConforms(response, "POST", "/get_reward")
        #expect(json["rewards"]?.numbers == [" A1", " A22"].map(FakeScoringService.reward))
        #expect(json["scores"] == json["rewards"])
        #expect(server.fake.received.first?.input == .raw("Q:"))
        let empty = await server.post("/get_reward", #"{"query":[]}"#)
        #expect(empty.status == 200, "OpenRLHF retries every non-200: \(empty.text)")
        let emptyJSON = try expectConforms(empty, "POST", "/get_reward")
        #expect(emptyJSON["rewards"] == .array([]) && emptyJSON["scores"] == .array([]))
    }

    @Test func headOutputsFollowTheirItemsThroughTheGrouping() async throws {
        let server = InMemoryAPI(fake: FakeScoringService(methods: [.classifier], labels: ["helpful", "safe"]))
        let response = await server.post(
            "/v1/score",
            """
            {"items":[{"prompt":"p","response":"aaaa"},{"prompt":"q","response":"b"},{"prompt":"p","response":"cc"}]}
            """)
        let json = try expectConforms(response, "POST", "/v1/score")
        let rewards = ["aaaa", "b", "cc"].map(FakeScoringService.reward)
        #expect(json["labels"] == .array([.string("helpful"), .string("safe")]))
        #expect(json["reward_vectors"]?.array?.map { $0.numbers ?? [] } == rewards.map { [$0, $0 + 1] })
        #expect(json["step_rewards"] == nil, "asked for none")
    }

    @Test func modelsShowsTheServiceAndTheDefaultMethod() async throws {
        let plain = InMemoryAPI()
        let json = try expectConforms(await plain.send("GET", "/v1/models"), "GET", "/v1/models")
        let model = try #require(json["data"]?[0])
        #expect(model["id"]?.string == "fake-model" && model["context_window"]?.int == 2048)
        #expect(model["methods"] == .array([.string("likelihood"), .string("judge")]))
        #expect(model["default_method"]?.string == "likelihood")

        let head = InMemoryAPI(fake: FakeScoringService(methods: [.classifier], labels: ["good"]))
        let headModel = try expectConforms(await head.send("GET", "/v1/models"), "GET", "/v1/models")["data"]?[0]
        #expect(
            headModel?["default_method"]?.string == "classifier"
                && headModel?["classifier_labels"] == .array([.string("good")]))

        let configured = InMemoryAPI { $0.api.defaultMethod = .judge }
        let configuredModel = try expectConforms(await configured.send("GET", "/v1/models"), "GET", "/v1/models")[
            "data"]?[0]
        #expect(configuredModel?["default_method"]?.string == "judge")
        _ = await configured.post("/v1/pairwise", #"{"prompt":"q","responses":["a","b"]}"#)
        #expect(configured.fake.received.first?.options.method == .judge, "a request naming no method gets the default")
    }

    @Test func readyFollowsTheQueueAndHealthAndTheDocumentAnswer() async throws {
        let server = InMemoryAPI()
        let ready = await server.send("GET", "/ready")
        #expect(ready.status == 200)
        #expect(try expectConforms(ready, "GET", "/ready")["status"]?.string == "ready")
        server.fake.setQueue(QueueSnapshot.make(queuedRequests: 7, runningJobs: 2, saturated: true))
        let saturated = await server.send("GET", "/ready")
        #expect(saturated.status == 503 && saturated.header("Retry-After") == "1")
        let body = try expectConforms(saturated, "GET", "/ready")
        #expect(body["status"]?.string == "saturated" && body["queued_requests"]?.int == 7)

        let health = await server.send("GET", "/health")
        #expect(try expectConforms(health, "GET", "/health")["status"]?.string == "ok")
        let document = await server.send("GET", "/openapi.json")
        #expect(document.status == 200)
        #expect(
            !APIFixture.specBytes.isEmpty && document.body == APIFixture.specBytes,
            "/openapi.json must serve the file byte for byte")
        #expect(await server.send("HEAD", "/health").status == 200)
    }

    @Test func requestIdIsEchoedOrGenerated() async throws {
        let server = InMemoryAPI()
        let echoed = await server.send("GET", "/v1/models", headers: [("X-Request-Id", "trace-42")])
        #expect(echoed.header("X-Request-Id") == "trace-42")
        let generated = await server.send("GET", "/v1/models")
        #expect(generated.header("X-Request-Id")?.isEmpty == false)
        let tooLong = await server.send(
            "GET", "/v1/models", headers: [("X-Request-Id", String(repeating: "a", count: 200))])
        #expect(tooLong.header("X-Request-Id").map { $0.count <= 128 } == true, "an id over 128 characters is replaced")
    }

    /// Found by schemathesis: with no items nothing reached the template lookup, so an empty name was accepted.
    @Test func anEmptyJudgeTemplateIsRefusedEvenWithoutItems() async throws {
        let server = InMemoryAPI()
        try expectError(
            await server.post("/v1/score", #"{"items":[],"method":"judge","judge_template":""}"#), "POST", "/v1/score",
            status: 400, type: "bad_request", field: "judge_template")
    }

    @Test func theRouteTableIsTheRouter() async {
        let server = InMemoryAPI()
        let table = server.app.endpoints.map { "\($0.method) \($0.path)" }
        #expect(Set(table).count == table.count, "each route once")
        for endpoint in server.app.endpoints {
            let response = await server.send(
                endpoint.method, endpoint.path, body: endpoint.method == "POST" ? Array("{}".utf8) : nil)
            // A handler's own 404 (no pin under the literal key "{key}") names its field; the router's names none.
            let handlersNotFound = response.status == 404 && response.text.contains("\"field\"")
            #expect(
                (response.status != 404 || handlersNotFound) && response.status != 405,
                "\(endpoint.method) \(endpoint.path)")
        }
        #expect(Set(server.app.endpoints.filter(\.isProbe).map(\.path)) == ["/health", "/ready", "/metrics"])
    }
}
