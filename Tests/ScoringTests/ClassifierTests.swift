import Foundation
import Scoring
import Testing

/// The classifier path on the tiny seeded models that scripts/setup.sh generates: an encoder (BERT,
/// score at [CLS], no prefix sharing possible) and a causal model (qwen3, score at the last token, shared
/// prefix through the KV cache).
@Suite(.serialized) struct ClassifierTests {
    static func modelPath(_ name: String) -> String {
        let env = ProcessInfo.processInfo.environment
        let cache = env["LONGRM_CACHE"] ?? (env["HOME"] ?? "/root") + "/.cache/longrm"
        return (env["LONGRM_TEST_MODELS"] ?? cache + "/test-models") + "/" + name
    }

    static func load(_ name: String, sharePrefix: Bool = true, contextSize: Int = 512, rewardLabel: String? = nil)
        async throws -> Scorer
    {
        let path = modelPath(name)
        guard FileManager.default.fileExists(atPath: path) else {
            Issue.record("test model missing at \(path): run `make setup` (scripts/setup.sh) first")
            throw ScoringError.modelLoadFailed("missing test model")
        }
        var configuration = EngineConfiguration(
            contextSize: contextSize, threads: 1, parallelSequences: 4, cacheSlots: 2, batchSize: 512)
        configuration.sharePrefix = sharePrefix
        configuration.rewardLabel = rewardLabel
        return try await Scorer.load(modelPath: path, configuration: configuration)
    }

    static let request = ScoringRequest(
        input: .contextPrompt(
            context: "the museum east wing holds the maritime collection", prompt: "which wing holds it"),
        responses: ["the east wing", "the west wing", "nobody knows"], options: ScoringOptions(method: .classifier))

    @Test func encoderClassifierScoresEachResponse() async throws {
        let scorer = try await Self.load("tiny-bert-cls.gguf")
        defer { scorer.shutdown() }
        #expect(scorer.methods == [.classifier], "an encoder offers only the classifier")
        #expect(scorer.model.classifierLabels == ["reward"])
        let result = try await scorer.bestOfN(Self.request)
        #expect(result.rewards.allSatisfy { $0.isFinite })
        #expect(Set(result.rewards).count == 3, "different responses should score differently: \(result.rewards)")
        let again = try await scorer.bestOfN(Self.request)
        #expect(again.rewards == result.rewards)
        var sigmoid = Self.request
        sigmoid.options.normalization = .sigmoid
        let squashed = try await scorer.bestOfN(sigmoid)
        for (raw, s) in zip(result.rewards, squashed.rewards) { #expect(abs(RewardMath.sigmoid(raw) - s) < 1e-6) }
    }

    /// An encoder's sequences are decoded one per call, so a response's score does not depend on which other
    /// responses came with it (packed together, BERT's scores moved by ~3e-7 and gemma-embedding's by 0.1).
    @Test func encoderScoresDoNotDependOnTheOtherResponses() async throws {
        let scorer = try await Self.load("tiny-bert-cls.gguf")
        defer { scorer.shutdown() }
        let together = try await scorer.bestOfN(Self.request)
        for (i, response) in Self.request.responses.enumerated() {
            var twice = Self.request
            twice.responses = [response, response]
            let alone = try await scorer.bestOfN(twice)
            #expect(alone.rewards == [together.rewards[i], together.rewards[i]], "response \(i)")
        }
    }

    /// An encoder sees its whole sequence in one call: a sequence longer than the logits-row budget
    /// (`maxOutputRows`) must score exactly as with a budget that holds it (it was split, and scored wrong).
    @Test func encoderSequenceIsNeverSplitByTheRowBudget() async throws {
        let path = Self.modelPath("tiny-bert-cls.gguf")
        var tight = EngineConfiguration(
            contextSize: 512, threads: 1, parallelSequences: 4, cacheSlots: 2, batchSize: 512)
        tight.maxOutputRows = 4
        let small = try await Scorer.load(modelPath: path, configuration: tight)
        let roomy = try await Self.load("tiny-bert-cls.gguf")
        defer { small.shutdown(); roomy.shutdown() }
        let a = try await small.bestOfN(Self.request)
        let b = try await roomy.bestOfN(Self.request)
        #expect(a.usage.computedTokens / 3 > tight.maxOutputRows, "each sequence must be longer than the budget")
        #expect(a.rewards == b.rewards)
    }

    @Test func causalClassifierSharesThePrefixAndMatchesSeparateDecoding() async throws {
        let shared = try await Self.load("tiny-causal-cls.gguf")
        let separate = try await Self.load("tiny-causal-cls.gguf", sharePrefix: false)
        defer { shared.shutdown(); separate.shutdown() }
        #expect(shared.model.classifierLabels == ["yes", "no"])
        let a = try await shared.bestOfN(Self.request)
        let b = try await separate.bestOfN(Self.request)
        #expect(a.usage.promptTokens > 0)
        let difference = zip(a.rewards, b.rewards).map { abs($0 - $1) }.max() ?? 0
        print("causal classifier: max |shared − separate| = \(difference)")
        // Pooled outputs go through the rank-pooling graph, whose shape follows the batch: measured ≤ 3e-8.
        #expect(difference < 1e-6)
        #expect(a.rewards.allSatisfy { (0...1).contains($0) }, "qwen3's head ends in a softmax: probabilities")
    }
}
