import Foundation
import Testing

/// The judge fields of the API (judge_template, judge_mode, max_new_tokens, return_text; the `judge`
/// report in responses) against a live server with the default model, each body checked against openapi.json.
@Suite("Scoring API: judge", .serialized)
struct JudgeAPITests {
    static var pair: [String: Any] {
        [
            "context": "The museum's east wing holds the maritime collection.",
            "prompt": "Which wing holds the maritime collection?",
            "responses": ["The east wing.", "The west wing."], "method": "judge",
        ]
    }

    static func with(_ extra: [String: Any], base: [String: Any] = pair) -> [String: Any] { base.merging(extra) { $1 } }

    @Test func generationReportsEachOrdersVerdictAndText() async throws {
        let server = try await APIFixture.server()
        let response = try await server.post(
            "/v1/pairwise",
            object: Self.with([
                "judge_template": "pair", "judge_mode": "generate", "max_new_tokens": 8, "return_text": true,
            ]))
        #expect(response.status == 200, "\(response.text)")
        let json = try expectConforms(response, "POST", "/v1/pairwise")
        let judge = try #require(json["judge"])
        #expect(judge["template"]?.string == "pair" && judge["mode"]?.string == "generate")
        let verdicts = try #require(judge["verdicts"]?.array)
        #expect(verdicts.count == 2)
        #expect(verdicts.map { $0["shown"]?.array?.compactMap(\.int) ?? [] } == [[0, 1], [1, 0]])
        for verdict in verdicts {
            #expect(verdict["text"]?.string != nil, "return_text asks for the text")
            #expect((verdict["generated_tokens"]?.int ?? 99) <= 8)
            #expect(
                verdict["verdict"]?.string != nil || verdict["reason"]?.string != nil,
                "a verdict or why not: \(verdict)")
        }
        let rewards = try #require(json["rewards"]?.numbers)
        #expect(abs(rewards[0] + rewards[1] - 1) < 1e-12)
    }

    @Test func probabilityModeOnABaseModelUsesThePlainLayout() async throws {
        let server = try await APIFixture.server()
        let response = try await server.post(
            "/v1/best-of-n", object: Self.with(["responses": ["The east wing.", "The west wing.", "Nobody."]]))
        let json = try expectConforms(response, "POST", "/v1/best-of-n")
        #expect(json["judge"]?["template"]?.string == "plain" && json["judge"]?["mode"]?.string == "probability")
        #expect(json["judge"]?["verdicts"]?.array?.count == 3)
        #expect(json["judge"]?["verdicts"]?[0]?["text"] == nil, "no text in probability mode")
    }

    /// /v1/score: one critique per item, verdicts by item index (items with one prompt share its computation).
    @Test func scoreReportsAVerdictPerItem() async throws {
        let server = try await APIFixture.server()
        let items: [[String: Any]] = [
            ["context": "Water boils at 100 C.", "prompt": "Boiling point?", "response": "100 C."],
            ["context": "Ice melts at 0 C.", "prompt": "Melting point?", "response": "10 C."],
            ["context": "Water boils at 100 C.", "prompt": "Boiling point?", "response": "50 C."],
        ]
        let response = try await server.post(
            "/v1/score",
            object: [
                "items": items, "method": "judge", "judge_mode": "generate", "max_new_tokens": 4, "return_text": true,
            ])
        let json = try expectConforms(response, "POST", "/v1/score")
        #expect(json["judge"]?["template"]?.string == "critique")
        let verdicts = try #require(json["judge"]?["verdicts"]?.array)
        #expect(verdicts.map { $0["shown"]?.array?.compactMap(\.int) ?? [] } == [[0], [1], [2]])
        #expect(verdicts.allSatisfy { ($0["generated_tokens"]?.int ?? 99) <= 4 && $0["text"]?.string != nil })
        #expect(json["rewards"]?.numbers?.allSatisfy { (0...9).contains($0) } == true)
    }

    @Test func badJudgeFieldsAreNamed() async throws {
        let server = try await APIFixture.server()
        try expectError(
            try await server.post(
                "/v1/pairwise", object: Self.with(["judge_mode": "generate", "max_new_tokens": 2049])),
            "POST", "/v1/pairwise", status: 400, type: "bad_request", field: "max_new_tokens", messageContains: "2048")
        try expectError(
            try await server.post(
                "/v1/pairwise", object: Self.with(["method": "likelihood", "judge_mode": "generate"])),
            "POST", "/v1/pairwise", status: 400, type: "bad_request", field: "judge_mode")
        try expectError(
            try await server.post("/v1/pairwise", object: Self.with(["judge_template": "nosuch"])),
            "POST", "/v1/pairwise", status: 400, type: "bad_request", field: "judge_template")
        try expectError(
            try await server.post("/v1/pairwise", object: Self.with(["judge_mode": "sometimes"])),
            "POST", "/v1/pairwise", status: 400, type: "bad_request", field: "judge_mode")
        try expectError(
            try await server.post(
                "/v1/best-of-n", object: Self.with(["judge_template": "pair", "responses": ["a", "b", "c"]])),
            "POST", "/v1/best-of-n", status: 400, type: "bad_request", field: "judge_template")
    }
}
