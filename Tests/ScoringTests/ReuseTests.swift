import Scoring
import Testing

/// Shared-prefix reuse must not change rewards: against the reference that decodes every candidate with
/// its own copy of the prompt, across cache hits, and whatever else shares the batch.
@Suite(.serialized) struct ReuseTests {
    static func request(_ seed: UInt64, method: ScoringMethod = .likelihood, responses: Int = 4) -> ScoringRequest {
        var generator = GroundingCases(seed: seed)
        let cases = generator.contextWithCases(facts: responses, fillerSentences: 40)
        return ScoringRequest(
            input: .contextPrompt(context: cases[0].context, prompt: cases[0].question),
            responses: cases.map(\.grounded), options: ScoringOptions(method: method))
    }

    @Test(arguments: [ScoringMethod.likelihood, .judge])
    func sharedPrefixEqualsSeparateDecoding(method: ScoringMethod) async throws {
        let shared = try await TestModel.isolated()
        let separate = try await TestModel.unshared()
        let request = Self.request(11, method: method)
        let a = try await shared.bestOfN(request)
        let b = try await separate.bestOfN(request)
        let difference = zip(a.rewards, b.rewards).map { abs($0 - $1) }.max() ?? 0
        print("\(method.rawValue): max |shared − separate| = \(difference)")
        // Bit-identical: non-unified KV (a stream per sequence) and flash attention off (docs/ARCHITECTURE.md).
        #expect(a.rewards == b.rewards)
        #expect(b.usage.reusedPromptTokens == 0)
    }

    @Test func sameRequestTwiceIsIdenticalAndReusesTheCache() async throws {
        let scorer = try await TestModel.isolated()
        let request = Self.request(23)
        let first = try await scorer.bestOfN(request)
        let second = try await scorer.bestOfN(request)
        #expect(first.rewards == second.rewards)
        #expect(second.usage.reusedPromptTokens == second.usage.promptTokens)
        #expect(second.usage.computedTokens < first.usage.computedTokens)
        #expect(first.contextKey == second.contextKey)
    }

    @Test func newPromptOnKnownContextReusesTheContextLevel() async throws {
        let scorer = try await TestModel.isolated()
        var request = Self.request(29)
        _ = try await scorer.bestOfN(request)
        guard case .contextPrompt(let context, _) = request.input else { return }
        request.input = .contextPrompt(context: context, prompt: "Which locker is mentioned first?")
        let again = try await scorer.bestOfN(request)
        #expect(again.usage.reusedPromptTokens > 0)
        #expect(again.usage.reusedPromptTokens < again.usage.promptTokens)
    }

    /// The judge caches instruction + context, then the question, as levels: both orders of a pair (and a
    /// later pair on the same question) share the question; a new question still reuses the context.
    @Test func judgeCachesTheQuestionAsALevelOfItsOwn() async throws {
        let scorer = try await TestModel.isolated()
        var request = Self.request(31, method: .judge, responses: 2)
        _ = try await scorer.pairwise(request)
        request.responses.reverse()
        let sameQuestion = try await scorer.pairwise(request)
        #expect(sameQuestion.result.usage.reusedPromptTokens == sameQuestion.result.usage.promptTokens)
        guard case .contextPrompt(let context, _) = request.input else { return }
        request.input = .contextPrompt(context: context, prompt: "Which locker is mentioned first?")
        let newQuestion = try await scorer.pairwise(request)
        #expect(newQuestion.result.usage.reusedPromptTokens > 0)
        #expect(
            newQuestion.result.usage.reusedPromptTokens < newQuestion.result.usage.promptTokens,
            "the question is not in the context level")
    }

    @Test func rewardsDoNotDependOnConcurrentRequests() async throws {
        let scorer = try await TestModel.isolated()
        let probe = Self.request(31)
        let alone = try await scorer.bestOfN(probe)
        // The same request again, now batched with 16 others (distinct contexts, different lengths).
        let mixed = try await withThrowingTaskGroup(of: (Int, ScoringResult).self) { group in
            for i in 0..<16 {
                group.addTask { (i, try await scorer.bestOfN(Self.request(100 + UInt64(i), responses: 2 + i % 3))) }
            }
            group.addTask { (-1, try await scorer.bestOfN(probe)) }
            var probeResult: ScoringResult?
            for try await (i, result) in group where i == -1 { probeResult = result }
            return probeResult
        }
        #expect(mixed?.rewards == alone.rewards)
        #expect(
            scorer.queue.batchedJobs > scorer.queue.batches,
            "some llama_decode calls should have served several requests")
    }
}
