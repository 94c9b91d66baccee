import Scoring
import Testing

@Suite(.serialized) struct MethodTests {
    static let context =
        "The museum's east wing holds the maritime collection. The west wing was closed for repairs in 2021."
    static let input = PromptInput.contextPrompt(context: context, prompt: "Which wing holds the maritime collection?")

    @Test func judgePairwiseRunsBothOrders() async throws {
        let scorer = try await TestModel.scorer()
        let result = try await scorer.pairwise(
            ScoringRequest(
                input: Self.input, responses: ["The east wing.", "The west wing."],
                options: ScoringOptions(method: .judge)))
        #expect(result.result.consistent != nil)
        #expect((0...1).contains(result.probability))
        #expect(abs(result.result.rewards[0] + result.result.rewards[1] - 1) < 1e-9)
        #expect(result.preferred == (result.probability >= 0.5 ? 0 : 1))
    }

    @Test func judgeBestOfNRatesEachResponseOnTheDigitScale() async throws {
        let scorer = try await TestModel.scorer()
        let result = try await scorer.bestOfN(
            ScoringRequest(
                input: Self.input, responses: ["The east wing.", "The west wing.", "Nobody knows."],
                options: ScoringOptions(method: .judge)))
        #expect(result.rewards.count == 3)
        #expect(result.rewards.allSatisfy { (0...9).contains($0) })
        #expect(Set(result.ranking) == [0, 1, 2])
    }

    @Test func likelihoodSumAndLiftNormalisations() async throws {
        let scorer = try await TestModel.scorer()
        let responses = ["The east wing holds it.", "The west wing holds it."]
        let mean = try await scorer.bestOfN(ScoringRequest(input: Self.input, responses: responses))
        let sum = try await scorer.bestOfN(
            ScoringRequest(
                input: Self.input, responses: responses,
                options: ScoringOptions(normalization: .sum)))
        let lift = try await scorer.bestOfN(
            ScoringRequest(
                input: Self.input, responses: responses,
                options: ScoringOptions(normalization: .lift)))
        for i in 0..<2 {
            let tokens = Double(mean.usage.responseTokens[i])
            #expect(abs(sum.rewards[i] - mean.rewards[i] * tokens) < 1e-3)
        }
        #expect(mean.rewards.allSatisfy { $0 < 0 })
        // The lift removes what the response's fluency alone explains: it differs from the plain mean.
        #expect(lift.rewards != mean.rewards)
        #expect(lift.normalization == .lift)
    }

    @Test func messagesInputScores() async throws {
        let scorer = try await TestModel.scorer()
        let result = try await scorer.pairwise(
            ScoringRequest(
                input: .messages([
                    ChatMessage(role: "system", content: Self.context),
                    ChatMessage(role: "user", content: "Which wing holds the maritime collection?"),
                ]),
                responses: ["The east wing.", "The west wing."]))
        #expect(result.result.rewards.count == 2)
        #expect(result.result.usage.promptTokens > 20)
    }

    @Test func middleTruncationKeepsHeadAndTailAndNeverCutsResponses() async throws {
        let scorer = try await TestModel.scorer()
        var generator = GroundingCases(seed: 5)
        let long = generator.filler(sentences: 400).joined(separator: " ")
        let request = ScoringRequest(
            input: .contextPrompt(context: long, prompt: "Summarise."),
            responses: ["A summary.", "Another summary."],
            options: ScoringOptions(truncation: .middle))
        let result = try await scorer.pairwise(request)
        #expect(result.result.usage.truncatedTokens > 0)
        #expect(result.result.usage.promptTokens + result.result.usage.responseTokens.max()! <= scorer.window)
        #expect(result.result.usage.responseTokens.allSatisfy { $0 > 2 })
    }
}
