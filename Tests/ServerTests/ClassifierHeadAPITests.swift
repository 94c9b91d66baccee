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
}
