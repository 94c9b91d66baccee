import Scoring
import Testing

/// The likelihood method must prefer a response grounded in the context over one with a wrong value.
@Suite(.serialized) struct GroundingTests {
    @Test func likelihoodPrefersGroundedAnswersAtOneThousandTokens() async throws {
        let scorer = try await TestModel.scorer()
        var generator = GroundingCases(seed: 7)
        var correct = 0, total = 0, promptTokens: [Int] = []
        // 5 contexts × 4 facts: 20 cases; each context is decoded once and reused from the cache.
        for _ in 0..<5 {
            for c in generator.contextWithCases(facts: 4, fillerSentences: 70) {
                let result = try await scorer.pairwise(
                    ScoringRequest(
                        input: .contextPrompt(context: c.context, prompt: c.question), responses: [c.grounded, c.wrong])
                )
                promptTokens.append(result.result.usage.promptTokens)
                total += 1
                if result.preferred == 0 { correct += 1 }
            }
        }
        print("grounding @ ~\(promptTokens.reduce(0, +) / promptTokens.count) tokens: \(correct)/\(total)")
        #expect(
            promptTokens.allSatisfy { $0 > 800 && $0 < 1400 }, "contexts should be about 1K tokens: \(promptTokens)")
        // Measured 19–20/20 on the default model (DESIGN.md reports 18–20/20); 17 leaves room for numerics.
        #expect(correct >= 17, "grounded answer preferred in only \(correct)/\(total) cases")
    }

    @Test func withoutTheContextTheFactIsNotKnown() async throws {
        // Control: the same pairs with the context removed are near chance, so the wins above come from
        // the context and not from the answers' surface form.
        let scorer = try await TestModel.scorer()
        var generator = GroundingCases(seed: 7)
        var correct = 0, total = 0
        for _ in 0..<5 {
            for c in generator.contextWithCases(facts: 4, fillerSentences: 70) {
                let result = try await scorer.pairwise(
                    ScoringRequest(
                        input: .contextPrompt(context: "", prompt: c.question), responses: [c.grounded, c.wrong]))
                total += 1
                if result.preferred == 0 { correct += 1 }
            }
        }
        print("grounding without context: \(correct)/\(total)")
        #expect(correct <= 16, "without context the model should not know the codes: \(correct)/\(total)")
    }
}
