@testable import Scoring
import Testing

/// Classifier queries without an assistant header that share a long leading text (`/get_reward` without
/// `prompts`, an unrecognised template): the shared text is computed once and the rewards stay those of the
/// whole texts. Tiny causal classifier from scripts/setup.sh.
@Suite(.serialized) struct SharedPrefixGroupingTests {
    @Test func groupedQueriesScoreLikeTheWholeTextsForLessCompute() async throws {
        let scorer = try await ClassifierTests.load("tiny-causal-cls.gguf")
        defer { scorer.shutdown() }
        let shared = String(repeating: "the museum east wing holds the maritime collection\n", count: 6)
        let queries = ["the east wing", "the west wing", "nobody knows", "it is in the east"].map { shared + $0 }
        let items = try RewardQueries.items(queries: queries, prompts: nil, method: .classifier, model: scorer.model)
        #expect(items.allSatisfy { $0.source == .sharedPrefix && $0.input == .raw(shared) }, "\(items.map(\.source))")

        let options = ScoringOptions(method: .classifier)
        let grouped = try await scorer.score(ScoringRequest(input: .raw(shared), responses: items.map(\.response), options: options))
        var whole: [Double] = []
        var wholeComputed = 0
        for query in queries {
            let result = try await scorer.score(ScoringRequest(input: .raw(""), responses: [query], options: options))
            whole += result.rewards
            wholeComputed += result.usage.computedTokens
        }
        let difference = zip(grouped.rewards, whole).map { abs($0 - $1) }.max() ?? 0
        print("shared-prefix grouping: computed \(grouped.usage.computedTokens) vs \(wholeComputed) tokens; max |Δ| = \(difference)")
        // Same tokens either way; pooled outputs follow the batch shape by a few 1e-8 (ClassifierTests).
        #expect(difference < 1e-6)
        #expect(grouped.usage.computedTokens * 2 < wholeComputed, "the shared text is computed once")
    }
}
