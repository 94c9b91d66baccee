import Foundation
import Scoring
import Testing

/// Work kept when a client leaves: a request that times out keeps the part of its context already decoded,
/// so the client's retry continues from it. OpenRLHF's client gives up after 180 s and retries 5 times; here
/// the timeout is a third of what the context needs, measured on this machine first.
@Suite(.serialized) struct ResumeTests {
    /// Small micro-batches: an abort loses at most the one running, so every try makes progress.
    static let configuration = EngineConfiguration(
        contextSize: 4096, threads: 1, cacheSlots: 4, batchSize: 512, microBatchSize: 128)

    static func request(seed: UInt64, sentences: Int) -> ScoringRequest {
        var generator = GroundingCases(seed: seed)
        let cases = generator.contextWithCases(facts: 2, fillerSentences: sentences)
        return ScoringRequest(
            input: .contextPrompt(context: cases[0].context, prompt: cases[0].question),
            responses: [cases[0].grounded, cases[0].wrong])
    }

    static func attempt(_ scorer: Scorer, _ request: ScoringRequest, timeout: Duration) async -> Result<
        PairwiseResult, ScoringError
    > {
        do throws(ScoringError) {
            return .success(try await scorer.pairwise(request, deadline: .now + timeout))
        } catch {
            return .failure(error)
        }
    }

    @Test func aClientWithAShortTimeoutIsAnsweredWithinFiveTries() async throws {
        let scorer = try await TestModel.load(Self.configuration)
        defer { scorer.shutdown() }
        // The first request pays for loading (page faults, GPU kernels): the second one measures the speed.
        _ = try await scorer.pairwise(Self.request(seed: 900, sentences: 20))
        let probe = try await scorer.pairwise(Self.request(seed: 901, sentences: 20)).result
        let tokensPerSecond = Double(probe.usage.computedTokens) / max(probe.timings.computeMs / 1000, 0.001)

        let request = Self.request(seed: 902, sentences: 110)
        // Filler sentences are of similar length: the probe's prompt scaled.
        let needed = Double(probe.usage.promptTokens * 110 / 20) / tokensPerSecond
        let timeout = Duration.milliseconds(Int(needed / 3 * 1000))
        var timedOut = 0
        var answer: PairwiseResult?
        for _ in 1...5 where answer == nil {
            switch await Self.attempt(scorer, request, timeout: timeout) {
            case .success(let result): answer = result
            case .failure(.timedOut): timedOut += 1
            case .failure(let error): throw error
            }
        }
        print("resume: \(Int(tokensPerSecond)) tok/s, timeout \(timeout), \(timedOut) timed out before the answer")
        let result = try #require(answer?.result, "no answer within 5 tries of \(timeout) each")
        #expect(timedOut >= 1, "the context should need longer than one timeout")
        #expect(result.usage.reusedPromptTokens > 0, "the answering try should continue from what the others decoded")

        // The same request on a fresh engine, uninterrupted.
        let fresh = try await TestModel.load(Self.configuration)
        defer { fresh.shutdown() }
        let reference = try await fresh.pairwise(request).result
        let difference = zip(result.rewards, reference.rewards).map { abs($0 - $1) }.max() ?? 0
        print("resume: max |resumed − uninterrupted| = \(difference)")
        #expect(difference == 0)
    }
}
