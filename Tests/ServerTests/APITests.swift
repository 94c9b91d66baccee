import Foundation
import Scoring
import Server
import Testing

/// The scoring API against a live server with the real default model: every endpoint's happy path end to
/// end, each response checked against openapi.json, and rewards compared with `longrm score` on the same body.
@Suite("Scoring API: endpoints", .serialized)
struct APITests {
    static let lockerContext = fillerContext(words: 230, seed: 1, fact: "The access code for locker 17 is 4821.")
    static let question = "What is the access code for locker 17?"
    static let grounded = "The access code for locker 17 is 4821."
    static let wrong = "The access code for locker 17 is 5930."

    @Test func pairwiseHappyPathMatchesTheCLI() async throws {
        let server = try await APIFixture.server()
        let body = """
            {"context":\(jsonString(Self.lockerContext)),"prompt":\(jsonString(Self.question)),
             "responses":[\(jsonString(Self.wrong)),\(jsonString(Self.grounded))]}
            """
        let response = try await server.post("/v1/pairwise", body)
        #expect(response.status == 200, "\(response.text)")
        let json = try expectConforms(response, "POST", "/v1/pairwise")
        let rewards = try #require(json["rewards"]?.numbers)
        #expect(rewards.count == 2)
        #expect(json["preferred"]?.int == (rewards[0] >= rewards[1] ? 0 : 1))
        let margin = try #require(json["margin"]?.number)
        #expect(margin == rewards[0] - rewards[1])
        let probability = try #require(json["probability"]?.number)
        #expect(abs(probability - 1 / (1 + exp(-margin))) < 1e-12)
        #expect(json["consistent"] == .null, "consistent is present and null for likelihood")
        #expect(json["method"]?.string == "likelihood" && json["normalize"]?.string == "mean")
        #expect(json["usage"]?["response_tokens"]?.array?.count == 2)
        #expect((json["usage"]?["prompt_tokens"]?.int ?? 0) > 200)
        #expect(response.header("X-Context-Key") == json["context_key"]?.string)

        let cli = try await LongRMBinary.score(endpoint: "pairwise", body: body)
        #expect(cli.status == 0, "longrm score failed: \(cli.stderr)")
        let offline = try JSONValue.parse(cli.stdout)
        #expect(offline["rewards"]?.numbers == rewards, "CLI \(offline["rewards"] ?? .null) vs server \(rewards)")
        #expect(offline["preferred"] == json["preferred"])
        #expect(offline["margin"] == json["margin"])
        #expect(offline["context_key"] == json["context_key"])
    }

    @Test func bestOfNHappyPathMatchesTheCLI() async throws {
        let server = try await APIFixture.server()
        let body = """
            {"messages":[{"role":"user","content":"Name a prime number between 10 and 20."}],
             "responses":["15","13","It is 12.","Seventeen is one."],"normalize":"sum"}
            """
        let response = try await server.post("/v1/best-of-n", body)
        #expect(response.status == 200, "\(response.text)")
        let json = try expectConforms(response, "POST", "/v1/best-of-n")
        let rewards = try #require(json["rewards"]?.numbers)
        let ranking = try #require(json["ranking"]?.array).compactMap { $0.int }
        #expect(rewards.count == 4 && ranking.sorted() == [0, 1, 2, 3])
        #expect(
            zip(ranking, ranking.dropFirst()).allSatisfy { rewards[$0] >= rewards[$1] },
            "ranking \(ranking) vs \(rewards)")
        #expect(json["best"]?.int == ranking.first)
        #expect(json["normalize"]?.string == "sum")
        #expect(response.header("X-Context-Key") == json["context_key"]?.string)

        let cli = try await LongRMBinary.score(endpoint: "best-of-n", body: body)
        #expect(cli.status == 0, "longrm score failed: \(cli.stderr)")
        let offline = try JSONValue.parse(cli.stdout)
        #expect(offline["rewards"]?.numbers == rewards, "CLI \(offline["rewards"] ?? .null) vs server \(rewards)")
        #expect(offline["ranking"] == json["ranking"])
    }

    @Test func scoreGivesOneRewardPerItemInOrder() async throws {
        let server = try await APIFixture.server()
        let response = try await server.post(
            "/v1/score",
            """
            {"items":[{"prompt":"2 + 2 =","response":"4"},
                      {"prompt":"The capital of France is","response":"Paris"},
                      {"prompt":"2 + 2 =","response":"a purple giraffe"}]}
            """)
        #expect(response.status == 200, "\(response.text)")
        let json = try expectConforms(response, "POST", "/v1/score")
        let rewards = try #require(json["rewards"]?.numbers)
        #expect(rewards.count == 3)
        #expect(json["usage"]?["response_tokens"]?.array?.count == 3)
        // Same prompt, so the same scale: the right sum beats nonsense.
        #expect(rewards[0] > rewards[2], "\(rewards)")

        let empty = try await server.post("/v1/score", #"{"items":[]}"#)
        #expect(empty.status == 200)
        #expect(try expectConforms(empty, "POST", "/v1/score")["rewards"]?.array?.isEmpty == true)
    }

    @Test func getRewardReturnsRewardsAndScoresInQueryOrder() async throws {
        let server = try await APIFixture.server()
        let prompt = "Q: What is 2 + 2?\nA:"
        let response = try await server.post(
            "/get_reward",
            """
            {"query":[\(jsonString(prompt + " 4")),\(jsonString(prompt + " a purple giraffe"))],
             "prompts":[\(jsonString(prompt)),\(jsonString(prompt))],"labels":["x","y"],"future_field":true}
            """)
        #expect(response.status == 200, "\(response.text)")
        let json = try expectConforms(response, "POST", "/get_reward")
        let rewards = try #require(json["rewards"]?.numbers)
        #expect(rewards.count == 2 && json["scores"]?.numbers == rewards)
        #expect(
            json["extra_logs"]?["boundary"]?.numbers == [BoundarySource.prompts.code, BoundarySource.prompts.code],
            "split by prompts")
        #expect(rewards[0] > rewards[1], "\(rewards)")
    }

    @Test func groundedAnswerIsPreferredThroughPairwiseAndGetReward() async throws {
        let server = try await APIFixture.server()
        // Both orders, so a position bias cannot pass for grounding.
        for (responses, expected) in [([Self.grounded, Self.wrong], 0), ([Self.wrong, Self.grounded], 1)] {
            let response = try await server.post(
                "/v1/pairwise",
                object: [
                    "context": Self.lockerContext, "prompt": Self.question, "responses": responses,
                ])
            let json = try expectConforms(response, "POST", "/v1/pairwise")
            #expect(json["preferred"]?.int == expected, "\(response.text)")
        }
        let prompt = Self.lockerContext + "\n\n" + Self.question + "\n"
        let response = try await server.post(
            "/get_reward",
            object: [
                "query": [prompt + Self.grounded, prompt + Self.wrong], "prompts": [prompt, prompt],
            ])
        let rewards = try #require(try expectConforms(response, "POST", "/get_reward")["rewards"]?.numbers)
        #expect(rewards.count == 2 && rewards[0] > rewards[1], "grounded should score higher: \(rewards)")
    }

    @Test func judgePairwiseReportsConsistency() async throws {
        let server = try await APIFixture.server()
        let response = try await server.post(
            "/v1/pairwise",
            object: [
                "prompt": "Is the sky blue on a clear day?", "responses": ["Yes.", "No, it is green."],
                "method": "judge",
            ])
        #expect(response.status == 200, "\(response.text)")
        let json = try expectConforms(response, "POST", "/v1/pairwise")
        #expect(json["consistent"]?.bool != nil, "judge pairwise runs both orders: consistent is true or false")
        #expect(json["method"]?.string == "judge" && json["normalize"]?.string == "none")
        let rewards = try #require(json["rewards"]?.numbers)
        #expect(abs(rewards[0] + rewards[1] - 1) < 1e-9, "judge rewards are P(first) and 1 - P(first): \(rewards)")
    }

    @Test func modelsDescribesTheLoadedModel() async throws {
        let server = try await APIFixture.server()
        let response = try await server.send("GET", "/v1/models")
        #expect(response.status == 200)
        let json = try expectConforms(response, "GET", "/v1/models")
        let model = try #require(json["data"]?[0])
        #expect(json["object"]?.string == "list" && model["object"]?.string == "model")
        #expect(model["id"]?.string?.isEmpty == false)
        #expect(model["context_window"]?.int == 2048)
        #expect((model["trained_context"]?.int ?? 0) >= 2048)
        // The default model is a base LM: likelihood and judge, no classifier head.
        #expect(model["methods"] == .array([.string("likelihood"), .string("judge")]))
        #expect(model["default_method"]?.string == "likelihood")
        #expect(model["classifier_labels"] == .array([]))
        #expect(model["chat_template"]?.bool != nil)
        // The CPU variant this process computes on (ops_cpu_variant.sh checks forced and foreign ones).
        let loaded = try await APIFixture.scorer().model.cpuVariant
        #expect(model["cpu_variant"]?.string == loaded.name)
        #expect(loaded.name == "static" || loaded.available.contains(loaded.name))
        // KV accounting measured on the model: Gemma 3 270M keeps 3 full-attention layers of 1 × 256-dim f16 K and V.
        #expect(model["kv"]?["bytes_per_token"]?.int == 3072)
        #expect(model["kv"]?["cache_type"]?.string == "f16")
        #expect(model["kv"]?["largest_context"]?.int == 2048)
        #expect((model["kv"]?["contexts_per_worker"]?.int ?? 0) >= 2)
    }
}

/// Errors that only the engine can find (the planner's checks, the window, the deadline), end to end.
@Suite("Scoring API: engine errors", .serialized)
struct APIEngineErrorTests {
    static let pair = #""prompt":"Say hi.","responses":["hi","hello"]"#

    @Test func thePlannersChecksNameTheirField() async throws {
        let server = try await APIFixture.server()
        let cases: [(String, String, String, String)] = [
            ("/v1/pairwise", #"{"context":"","prompt":"","responses":["a","b"]}"#, "prompt", "bad_request"),
            (
                "/v1/pairwise", #"{"messages":[{"role":"","content":"q"}],"responses":["a","b"]}"#, "messages[0].role",
                "bad_request"
            ),
            ("/v1/pairwise", #"{"prompt":"q","responses":["fine",""]}"#, "responses[1]", "bad_request"),
            (
                "/v1/score", #"{"items":[{"prompt":"q","response":"a"},{"prompt":"q","response":""}]}"#, "items[1]",
                "bad_request"
            ),
            ("/v1/pairwise", "{\(Self.pair),\"method\":\"judge\",\"normalize\":\"mean\"}", "normalize", "bad_request"),
            ("/v1/pairwise", "{\(Self.pair),\"method\":\"classifier\"}", "method", "unsupported_method"),
        ]
        for (path, body, field, type) in cases {
            try expectError(try await server.post(path, body), "POST", path, status: 400, type: type, field: field)
        }
    }

    @Test func contextLongerThanTheWindowIsRefusedUnlessTruncatedInTheMiddle() async throws {
        let server = try await APIFixture.server()
        let context = fillerContext(words: 2600, seed: 3, fact: "The access code for locker 17 is 4821.")
        var body: [String: Any] = [
            "context": context, "prompt": "What is the access code for locker 17?", "responses": ["4821", "5930"],
        ]
        let refused = try await server.post("/v1/pairwise", object: body)
        try expectError(
            refused, "POST", "/v1/pairwise", status: 400, type: "context_too_long", field: "context",
            messageContains: "middle")

        body["truncation"] = "middle"
        let truncated = try await server.post("/v1/pairwise", object: body)
        #expect(truncated.status == 200, "\(truncated.text)")
        let json = try expectConforms(truncated, "POST", "/v1/pairwise")
        let removed = try #require(json["usage"]?["truncated_tokens"]?.int)
        #expect(removed > 0)
        let promptTokens = try #require(json["usage"]?["prompt_tokens"]?.int)
        let longest = try #require(json["usage"]?["response_tokens"]?.array).compactMap { $0.int }.max() ?? 0
        #expect(promptTokens + longest <= 2048, "truncated input must fit the 2048-token window")
    }

    @Test func deadlineThatPassesGives504() async throws {
        let server = try await APIFixture.server()
        // A context nobody has cached, so scoring takes far longer than the 1 ms deadline.
        let context = "Report \(UUID().uuidString). " + fillerContext(words: 1200, seed: 5)
        let response = try await server.post(
            "/v1/best-of-n",
            object: [
                "context": context, "prompt": "Summarise.", "responses": ["A report.", "Nothing."], "timeout_ms": 1,
            ])
        try expectError(response, "POST", "/v1/best-of-n", status: 504, type: "deadline_exceeded", field: nil)
    }
}
