import Foundation
import Scoring
import Testing

/// `/get_reward` with `query` alone (what many OpenRLHF versions and hand-written clients send), through a
/// live server with the real default model.
@Suite("Scoring API: get_reward without prompts", .serialized)
struct GetRewardQueryTests {
    /// Gemma-style turn markers, as a Gemma policy's chat template renders them with `add_generation_prompt`.
    static func prompt(_ question: String) -> String {
        "<start_of_turn>user\nAnswer in one short sentence.\n\n\(question)<end_of_turn>\n<start_of_turn>model\n"
    }
    static let prompts = [prompt("What is the capital of France?"), prompt("How many legs does a spider have?")]
    static let answers = [
        ["Paris is the capital of France.", "The capital is Lyon.", "I like turtles."],
        ["A spider has eight legs.", "Spiders have six legs.", ""],
    ]

    /// One job per engine batch (`cacheSlots: 2`). With two jobs in one batch (the default 4 slots) llama.cpp
    /// 0.3.36 on this engine moves a reward by up to 0.02 between identical calls (measured on the default
    /// model: the same query + prompts body sent three times); that is the engine's batch layout, not the
    /// split this suite tests, which must hand the engine exactly the requests `prompts` would.
    static let deterministic = Task { () throws -> APIServer in
        var engine = APIFixture.engine
        engine.cacheSlots = 2
        return try APIServer(service: try await Scorer.load(modelPath: APIFixture.modelPath, configuration: engine))
    }

    @Test func queryOnlyRewardsEqualQueryPlusPromptsBitForBit() async throws {
        let server = try await Self.deterministic.value
        var queries: [String] = [], prompts: [String] = []
        // Interleaved, as a trainer's batch may be: rollouts of one prompt are not adjacent.
        for k in 0..<3 {
            for p in 0..<2 {
                queries.append(Self.prompts[p] + Self.answers[p][k])
                prompts.append(Self.prompts[p])
            }
        }
        let alone = try await server.post("/get_reward", object: ["query": queries])
        #expect(alone.status == 200, "\(alone.text)")
        let aloneJSON = try expectConforms(alone, "POST", "/get_reward")
        let withPrompts = try await server.post("/get_reward", object: ["query": queries, "prompts": prompts])
        let withJSON = try expectConforms(withPrompts, "POST", "/get_reward")
        let rewards = try #require(aloneJSON["rewards"]?.numbers)
        #expect(rewards.count == queries.count && rewards.allSatisfy(\.isFinite))
        #expect(rewards == withJSON["rewards"]?.numbers, "query alone must score exactly what query + prompts scores")
        #expect(
            aloneJSON["extra_logs"]?["boundary"]?.numbers
                == Array(repeating: BoundarySource.header(.gemma).code, count: queries.count))
        #expect(
            withJSON["extra_logs"]?["boundary"]?.numbers
                == Array(repeating: BoundarySource.prompts.code, count: queries.count))
        // The response is what is scored: the grounded answer beats nonsense under the same prompt.
        #expect(rewards[0] > rewards[4], "Paris vs turtles: \(rewards)")
    }

    @Test func queryOnlyWithoutAnAssistantHeaderIs400NamingPrompts() async throws {
        let server = try await APIFixture.server()
        let response = try await server.post(
            "/get_reward",
            object: [
                "query": [Self.prompts[0] + "Paris.", "Q: What is the capital of France?\nA: Paris."]
            ])
        try expectError(
            response, "POST", "/get_reward", status: 400, type: "bad_request", field: "query[1]",
            messageContains: "\"prompts\"")
        // The same query with its prompt is scored.
        let fixed = try await server.post(
            "/get_reward",
            object: [
                "query": ["Q: What is the capital of France?\nA: Paris."],
                "prompts": ["Q: What is the capital of France?\nA:"],
            ])
        #expect(fixed.status == 200, "\(fixed.text)")
    }

    @Test func anEmptyAnswerAfterTheHeaderGetsAReward() async throws {
        let server = try await APIFixture.server()
        let response = try await server.post(
            "/get_reward", object: ["query": [Self.prompts[0], Self.prompts[0] + "Paris."]])
        #expect(response.status == 200, "\(response.text)")
        let json = try expectConforms(response, "POST", "/get_reward")
        let rewards = try #require(json["rewards"]?.numbers)
        #expect(rewards.count == 2 && rewards[0].isFinite && rewards[0] < 0, "log-prob of ending the turn: \(rewards)")
        #expect(rewards[0] != rewards[1])
    }
}
