import Foundation
import Scoring
import Testing

/// A request's rewards must not depend on what else is in flight: the same pairwise request alone and sent
/// several times at once among requests on other contexts of other lengths, with responses of very different
/// lengths (1 to ~25 tokens), gives bit-identical rewards. This is the shape of the held-out check of issue 13
/// (8 contexts of 1.6K tokens × 3 copies), scaled down for a 2-core machine.
@Suite(.serialized) struct InvarianceTests {
    /// A scorer of its own: no other suite's requests share its batches or its cache.
    static let scorer = Task { try await TestModel.load(TestModel.small) }

    /// Contexts of different lengths; the two responses differ in length so that candidates' tails fall in
    /// micro-batches of various sizes when several requests share a llama_decode call.
    static func request(_ index: Int) -> ScoringRequest {
        var generator = GroundingCases(seed: 700 + UInt64(index))
        let cases = generator.contextWithCases(facts: 2, fillerSentences: 14 + 9 * index)
        let short = ["4821.", "It is 4821.", "Code 4821, locker 17.", "Seventeen."][index % 4]
        return ScoringRequest(
            input: .contextPrompt(context: cases[0].context, prompt: cases[0].question),
            responses: [index % 2 == 0 ? cases[0].grounded : short, cases[0].wrong + " " + short])
    }

    @Test func rewardsUnderMixedContextLoadEqualTheRequestAlone() async throws {
        let scorer = try await Self.scorer.value
        let contexts = 4, copies = 3
        var alone: [[Double]] = []
        for i in 0..<contexts { alone.append(try await scorer.pairwise(Self.request(i)).result.rewards) }

        let mixed = try await withThrowingTaskGroup(of: (Int, [Double]).self) { group in
            for copy in 0..<copies {
                for i in 0..<contexts {
                    group.addTask {
                        // Staggered a little so the scheduler's batches pair different contexts.
                        try await Task.sleep(for: .milliseconds(5 * (copy * contexts + i)))
                        return (i, try await scorer.pairwise(Self.request(i)).result.rewards)
                    }
                }
            }
            var results: [(Int, [Double])] = []
            for try await result in group { results.append(result) }
            return results
        }
        var worst = 0.0, differing = 0
        for (i, rewards) in mixed {
            let difference = zip(rewards, alone[i]).map { abs($0 - $1) }.max() ?? 0
            worst = max(worst, difference)
            if difference != 0 { differing += 1 }
        }
        print("invariance: \(differing) of \(mixed.count) responses differ from the request alone, max |Δ| = \(worst)")
        #expect(mixed.count == contexts * copies)
        #expect(worst == 0, "\(differing) of \(mixed.count) differ, max |Δ| = \(worst)")
        #expect(
            scorer.queue.batchedJobs > scorer.queue.batches,
            "some llama_decode calls should have served several requests")
    }
}
