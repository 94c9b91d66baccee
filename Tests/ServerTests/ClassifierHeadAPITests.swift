import Foundation
import Scoring
import Testing

/// A converted reward model's head over HTTP (curl): label names, reward vectors, step rewards and their errors,
/// all held to openapi.json. The model is the tiny seeded `tiny-head-cls.gguf` (scripts/make_classifier_model.py).
@Suite(.serialized) struct ClassifierHeadAPITests {
    static let server = Task { () throws -> APIServer in
        let env = ProcessInfo.processInfo.environment
        let cache = env["LONGRM_CACHE"] ?? (env["HOME"] ?? "/root") + "/.cache/longrm"
        let path = (env["LONGRM_TEST_MODELS"] ?? cache + "/test-models") + "/tiny-head-cls.gguf"
        guard FileManager.default.fileExists(atPath: path) else {
            throw TestFailure(description: "test model missing at \(path): run `make setup` (scripts/setup.sh) first")
        }
        let configuration = EngineConfiguration(
            contextSize: 1024, threads: 1, parallelSequences: 4, cacheSlots: 2, batchSize: 512)
        return try APIServer(service: try await Scorer.load(modelPath: path, configuration: configuration))
    }

    static let body = """
        {"context": "the east wing holds the maritime collection", "prompt": "which wing holds it",
         "responses": ["the east wing", "the west wing<step>or the north one"], "step_rewards": true}
        """

    @Test func bestOfNCarriesLabelsVectorsAndSteps() async throws {
        let server = try await Self.server.value
        let response = try await curl([
            "-i", "-H", "Content-Type: application/json", "-d", Self.body,
            "http://127.0.0.1:\(server.port)/v1/best-of-n",
        ])
        #expect(response.exitCode == 0, "\(response.stderr)")
        let raw = try await server.post("/v1/best-of-n", Self.body)
        let body = try expectConforms(raw, "POST", "/v1/best-of-n")
        #expect(raw.status == 200)
        #expect(body["labels"]?.array?.compactMap(\.string) == ["helpful", "correct", "safe"])
        let vectors = body["reward_vectors"]?.array?.map { $0.array?.compactMap(\.number) ?? [] } ?? []
        let rewards = body["rewards"]?.array?.compactMap(\.number) ?? []
        #expect(vectors.count == 2 && vectors.allSatisfy { $0.count == 3 })
        #expect(rewards == vectors.map { $0.first ?? .nan }, "rewards are the first label's outputs")
        let steps = body["step_rewards"]?.array?.map { $0.array?.compactMap(\.number) ?? [] } ?? []
        #expect(steps.map(\.count) == [0, 1], "one separator in the second response, none in the first")
        #expect(response.stdout.contains("\"step_rewards\""), "curl sees the same fields")
    }

    @Test func modelsListsTheLabelsAndTheRewardLabel() async throws {
        let server = try await Self.server.value
        let raw = try await server.send("GET", "/v1/models")
        let body = try expectConforms(raw, "GET", "/v1/models")
        let model = body["data"]?.array?.first
        #expect(model?["classifier_labels"]?.array?.compactMap(\.string) == ["helpful", "correct", "safe"])
        #expect(model?["reward_label"]?.string == "helpful")
        #expect(model?["methods"]?.array?.compactMap(\.string) == ["classifier"])
    }

    @Test func stepRewardsNeedTheClassifierMethod() async throws {
        let server = try await Self.server.value
        let raw = try await server.post(
            "/v1/score",
            """
            {"items": [{"prompt": "q", "response": "a<step>b"}], "method": "likelihood", "step_rewards": true}
            """)
        try expectError(raw, "POST", "/v1/score", status: 400, type: "bad_request", field: "step_rewards")
    }

    @Test func likelihoodIsNotOfferedByAHeadModel() async throws {
        let server = try await Self.server.value
        let raw = try await server.post(
            "/v1/score",
            """
            {"items": [{"prompt": "q", "response": "a"}], "method": "likelihood"}
            """)
        try expectError(raw, "POST", "/v1/score", status: 400, type: "unsupported_method", field: "method")
    }

    /// verl's reward loop reads `probs[-1]` of vLLM's `/classify`: every label of the real head, raw on
    /// request (equal to `/get_reward`'s reward for the reward label), softmaxed by default.
    @Test func classifyCarriesEveryLabelRawOrSoftmaxed() async throws {
        let server = try await Self.server.value
        let texts = ["the east wing holds the maritime collection", "the west wing holds the paintings"]
        let raw = try await server.post("/classify", object: ["model": "rm", "input": texts, "activation": false])
        let rawJSON = try expectConforms(raw, "POST", "/classify")
        #expect(raw.status == 200, "\(raw.text)")
        let outputs = try #require(rawJSON["data"]?.array?.map { $0["probs"]?.numbers ?? [] })
        #expect(outputs.count == 2 && outputs.allSatisfy { $0.count == 3 })
        #expect(rawJSON["data"]?[0]?["num_classes"]?.int == 3)
        let rewards = try await server.post("/get_reward", object: ["query": texts])
        let expected = try #require(try expectConforms(rewards, "POST", "/get_reward")["rewards"]?.numbers)
        #expect(outputs.map { $0[0] } == expected, "the reward label (helpful, first) is /get_reward's reward")
        let activated = try await server.post("/v1/classify", object: ["input": texts])
        let probs = try #require(
            try expectConforms(activated, "POST", "/v1/classify")["data"]?.array?.map { $0["probs"]?.numbers ?? [] })
        for (p, o) in zip(probs, outputs) {
            let exps = o.map { exp($0 - o.max()!) }
            let softmax = exps.map { $0 / exps.reduce(0, +) }
            #expect(zip(p, softmax).allSatisfy { abs($0 - $1) < 1e-12 }, "\(p) vs \(softmax)")
            #expect(abs(p.reduce(0, +) - 1) < 1e-12)
        }
        let label = activated.text.contains("\"label\":\"")
        #expect(label, "the largest label is named: \(activated.text)")
    }

    @Test func aSequenceClassifierDoesNotChat() async throws {
        let server = try await Self.server.value
        let raw = try await server.post("/v1/chat/completions", #"{"messages":[{"role":"user","content":"hi"}]}"#)
        #expect(raw.status == 400, "\(raw.text)")
        let json = try expectConforms(raw, "POST", "/v1/chat/completions")
        #expect(json["type"]?.string == "unsupported_method" && json["object"]?.string == "error")
        #expect(json["param"] == .null, "no request field is at fault")
    }
}
