import Testing

@testable import Scoring

/// Rendered queries on the real default model: the empty answer and the classifier's token check.
@Suite(.serialized) struct QueryRewardTests {
    static let prompt = "<start_of_turn>user\nWhat is the capital of France?<end_of_turn>\n<start_of_turn>model\n"

    @Test func anEmptyAnswerIsScoredAsEndingTheTurn() async throws {
        let scorer = try await TestModel.scorer()
        let end = try #require(
            scorer.model.endOfTurnToken, "the default model has an end-of-turn or end-of-sequence token")
        let endText = scorer.model.piece(end)
        #expect(
            scorer.model.tokenize(endText, addSpecial: false, parseSpecial: true) == [end],
            "\(endText) is one special token")
        let result = try await scorer.score(
            ScoringRequest(input: .raw(Self.prompt), responses: ["", endText, "Paris."]))
        #expect(result.rewards[0] == result.rewards[1], "empty answer = log P(\(endText) | prompt): \(result.rewards)")
        #expect(result.rewards[0].isFinite && result.rewards[0] < 0)
        #expect(result.usage.responseTokens[0] == 1)
        // Other inputs still refuse empty responses.
        await #expect(
            throws: ScoringError.invalidRequest(field: FieldPath("responses").index(0), reason: "must not be empty")
        ) {
            _ = try await scorer.score(
                ScoringRequest(input: .contextPrompt(context: "c", prompt: "p"), responses: [""]))
        }
    }

    @Test func classifierSplitsOnlyWhereTheTokensStayTheWholeTexts() async throws {
        let model = try await TestModel.scorer().model
        let query = Self.prompt + "Paris is the capital."
        let items = try RewardQueries.items(queries: [query], prompts: nil, method: .classifier, model: model)
        #expect(
            items == [
                RewardQueries.Item(input: .raw(Self.prompt), response: "Paris is the capital.", source: .header(.gemma))
            ])
        let tokens = { (text: String) in model.tokenize(text, addSpecial: false, parseSpecial: true) }
        #expect(tokens(Self.prompt) + tokens("Paris is the capital.") == tokens(query))
        // A cut inside a word changes the tokens: the shared-prefix grouping must not use it.
        let word = String(repeating: "x", count: 300)
        let grouped = try RewardQueries.items(
            queries: [word + "abc\nfirst", word + "abd\nsecond"], prompts: nil, method: .classifier, model: model)
        #expect(grouped.allSatisfy { $0.source == .none }, "no line break inside the common prefix: \(grouped)")
    }
}
