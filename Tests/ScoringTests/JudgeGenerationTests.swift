import Foundation
import Testing

@testable import Scoring

/// Greedy generation on the default model (real llama.cpp): deterministic, and batched across requests.
@Suite(.serialized) struct JudgeGenerationTests {
    static func request(_ i: Int, responses: [String]? = nil, template: String = "pair") -> ScoringRequest {
        ScoringRequest(
            input: .contextPrompt(
                context: "Locker \(10 + i) has the access code \(4821 + 7 * i). The museum opens at nine.",
                prompt: "What is the access code for locker \(10 + i)?"),
            responses: responses ?? ["The code is \(4821 + 7 * i).", "The code is \(1111 + i)."],
            options: ScoringOptions(
                method: .judge,
                judge: JudgeOptions(template: template, mode: .generate, maxNewTokens: 24, returnText: true)))
    }

    static func texts(_ result: ScoringResult) -> [String] { result.judge?.verdicts.map { $0.text ?? "<none>" } ?? [] }

    /// The same request twice, then alone against the same request among 7 others in flight: identical
    /// generated text and rewards (greedy, lowest token id on ties, each candidate's prompt decoded alone, a
    /// KV stream per sequence so a step's batch mates never change a row's logits).
    @Test func generationIsDeterministicAloneAndUnderLoad() async throws {
        let scorer = try await TestModel.isolated()
        let target = Self.request(0)
        let first = try await scorer.pairwise(target)
        let second = try await scorer.pairwise(target)
        #expect(Self.texts(first.result).count == 2)
        #expect(first.result.judge?.verdicts.allSatisfy { ($0.generatedTokens ?? 0) > 0 } == true)
        #expect(Self.texts(first.result) == Self.texts(second.result))
        #expect(first.result.rewards == second.result.rewards)

        let before = scorer.queue
        let loaded = try await withThrowingTaskGroup(of: (Int, PairwiseResult).self) { group in
            for i in 0..<8 {
                group.addTask { (i, try await scorer.pairwise(i == 3 ? target : Self.request(i + 1))) }
            }
            var results: [Int: PairwiseResult] = [:]
            for try await (i, result) in group { results[i] = result }
            return results
        }
        let underLoad = try #require(loaded[3])
        #expect(Self.texts(underLoad.result) == Self.texts(first.result), "alone vs among 8 in flight")
        #expect(underLoad.result.rewards == first.result.rewards)
        let after = scorer.queue
        let steps = after.generationSteps - before.generationSteps
        let tokens = after.generationStepTokens - before.generationStepTokens
        #expect(
            steps > 0 && Double(tokens) / Double(steps) > 1.5,
            "concurrent generations share decode steps: \(tokens) tokens in \(steps) steps")
    }

    /// A scoring request while generations hold working sequences: its rewards are those it gets alone.
    @Test func scoringBesideGenerationIsUnchanged() async throws {
        // parallel 4: generation leases 3 of the 4 working sequences, the scoring request gets one.
        let scorer = try await TestModel.load(EngineConfiguration(contextSize: 2048, threads: 2, parallelSequences: 4))
        defer { scorer.shutdown() }
        let scoring = ScoringRequest(
            input: .messages([ChatMessage(role: "user", content: "Name a prime number between 10 and 20.")]),
            responses: ["15", "13", "It is 12.", "Seventeen is one."],
            options: ScoringOptions(normalization: .sum))
        let alone = try await scorer.bestOfN(scoring)
        var long = Self.request(9)
        long.options.judge.maxNewTokens = 64
        let generating = Task { try await scorer.pairwise(long) }
        while scorer.queue.generationSteps == 0 { try await Task.sleep(for: .milliseconds(20)) }
        let beside = try await scorer.bestOfN(scoring)
        _ = try await generating.value
        #expect(beside.rewards == alone.rewards, "alone \(alone.rewards) vs beside generation \(beside.rewards)")
    }

    /// Best-of-N rankings and critiques in generation mode: every prompt reported, rewards on their scales.
    @Test func rankAndCritiqueGenerate() async throws {
        let scorer = try await TestModel.scorer()
        let responses = ["The code is 4821.", "The code is 1234.", "I do not know."]
        let ranked = try await scorer.bestOfN(Self.request(0, responses: responses, template: "rank"))
        #expect(ranked.judge?.verdicts.count == 3, "three rotations of three candidates")
        #expect(ranked.rewards.allSatisfy { (0...1).contains($0) })
        #expect(Set(ranked.ranking) == [0, 1, 2])
        let critiqued = try await scorer.score(Self.request(0, responses: responses, template: "critique"))
        #expect(critiqued.judge?.verdicts.map(\.shown) == [[0], [1], [2]])
        #expect(critiqued.rewards.allSatisfy { (0...9).contains($0) })
    }

    /// Probability mode through a built-in template: reads [[A]]/[[B]] after the answer prefix in both orders.
    @Test func probabilityModeSwapsPositions() async throws {
        let scorer = try await TestModel.scorer()
        var request = Self.request(0)
        request.options.judge = JudgeOptions(template: "pair", mode: .probability)
        let result = try await scorer.pairwise(request)
        let report = try #require(result.result.judge)
        #expect(report.verdicts.map(\.shown) == [[0, 1], [1, 0]])
        #expect(report.verdicts.allSatisfy { ["[[A]]", "[[B]]"].contains($0.verdict ?? "") })
        #expect(result.result.consistent == report.consistent)
        if result.result.consistent == false {
            #expect(result.probability == 0.5 && result.result.rewards == [0.5, 0.5])
        }
        #expect(abs(result.result.rewards.reduce(0, +) - 1) < 1e-12)
    }
}
