import Foundation
import Scoring
import Testing

/// The framework routes on a live server with the real default model (no head: likelihood), through curl:
/// each gives the reward our own routes give for the same texts.
@Suite("Framework routes: real model", .serialized)
struct CompatAPITests {
    static let prompt = "What is the capital of France?"
    static let answers = ["Paris.", "The capital of France is Lyon.", "Marseille, I think."]

    /// POST JSON with curl, as the frameworks' HTTP clients send it; the body parsed.
    static func curlPost(_ port: Int, _ path: String, _ object: [String: Any]) async throws -> JSONValue {
        let body = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        let result = try await curl([
            "--max-time", "300", "-H", "Content-Type: application/json", "-d", body, "http://127.0.0.1:\(port)\(path)",
        ])
        #expect(result.exitCode == 0, "\(result.stderr)")
        return try JSONValue.parse(Array(result.stdout.utf8))
    }

    static func v1Scores(_ server: APIServer, prompt: String, _ responses: [String]) async throws -> [Double] {
        let items = responses.map { ["prompt": prompt, "response": $0] }
        let response = try await server.post("/v1/score", object: ["items": items])
        return try #require(try expectConforms(response, "POST", "/v1/score")["rewards"]?.numbers)
    }

    @Test func scoreAndRerankGiveV1ScoreRewards() async throws {
        let server = try await APIFixture.server()
        let expected = try await Self.v1Scores(server, prompt: Self.prompt, Self.answers)
        let score = try await Self.curlPost(server.port, "/score", ["text_1": Self.prompt, "text_2": Self.answers])
        #expect(score["data"]?.array?.map { $0["score"]?.number ?? .nan } == expected, "\(score)")
        let raw = try await server.post("/score", object: ["text_1": Self.prompt, "text_2": Self.answers])
        try expectConforms(raw, "POST", "/score")

        let rerank = try await Self.curlPost(
            server.port, "/v1/rerank", ["model": "x", "query": Self.prompt, "documents": Self.answers, "top_n": 2])
        let order = expected.indices.sorted { expected[$0] > expected[$1] }
        let results = try #require(rerank["results"]?.array, "\(rerank)")
        #expect(results.map { $0["index"]?.int ?? -1 } == Array(order.prefix(2)))
        #expect(results.map { $0["relevance_score"]?.number ?? .nan } == order.prefix(2).map { expected[$0] })
        #expect(results.map { $0["document"]?["text"]?.string ?? "" } == order.prefix(2).map { Self.answers[$0] })

        let tei = try await Self.curlPost(server.port, "/rerank", ["query": Self.prompt, "texts": Self.answers])
        let ranks = try #require(tei.array, "\(tei)")
        #expect(ranks.map { $0["index"]?.int ?? -1 } == order)
        #expect(ranks.map { $0["score"]?.number ?? .nan } == order.map { 1 / (1 + exp(-expected[$0])) })
    }

    /// verl renders prompt + response with the reward model's chat template and posts one text to `/classify`;
    /// the raw `probs[-1]` is the reward `/get_reward` gives the same text.
    @Test func classifyGivesTheGetRewardOfTheSameRenderedText() async throws {
        let server = try await APIFixture.server()
        let rendered = Self.answers.map {
            "<start_of_turn>user\n\(Self.prompt)<end_of_turn>\n<start_of_turn>model\n\($0)<end_of_turn>\n"
        }
        let reward = try await server.post("/get_reward", object: ["query": rendered])
        let expected = try #require(try expectConforms(reward, "POST", "/get_reward")["rewards"]?.numbers)
        var verl: [Double] = []
        for text in rendered {
            let json = try await Self.curlPost(
                server.port, "/classify", ["model": "/models/rm", "input": text, "activation": false])
            verl.append(json["data"]?.array?.last?["probs"]?.array?.last?.number ?? .nan)
        }
        #expect(verl == expected, "\(verl) vs \(expected)")
        let batch = try await server.post("/v1/classify", object: ["input": rendered, "use_activation": true])
        let json = try expectConforms(batch, "POST", "/v1/classify")
        let probs = json["data"]?.array?.map { $0["probs"]?.numbers ?? [] }
        #expect(probs == expected.map { [1 / (1 + exp(-$0))] }, "one output: activation is a sigmoid")
    }

    @Test func badInputOnARealServerIsAVLLMErrorWithItsStatus() async throws {
        let server = try await APIFixture.server()
        let json = try await Self.curlPost(server.port, "/classify", ["input": "no assistant header in this text"])
        #expect(json["object"]?.string == "error" && json["code"]?.int == 400, "\(json)")
        #expect(json["param"]?.string == "input[0]" && json["error"]?["type"]?.string == "bad_request")
        let response = try await server.post("/score", object: ["text_1": ["a", "b"], "text_2": ["c"]])
        #expect(response.status == 400)
        try expectConforms(response, "POST", "/score")
    }
}
