import Foundation
import Testing

@testable import Scoring

/// A sequence-classification head carried in `longrm.head.*` metadata (what scripts/convert-rm.sh writes), applied
/// in Swift to llama.cpp's final-norm hidden state. The tiny model is scripts/make_classifier_model.py --tiny-head:
/// three labels, a bias, the step separator `<step>`. Parity with transformers on converted checkpoints is
/// tests/rm_parity.sh; these tests hold the engine path: the right token, prefix sharing, labels, steps.
@Suite(.serialized) struct ScoreHeadTests {
    static func load(
        _ name: String = "tiny-head-cls.gguf", sharePrefix: Bool = true, rewardLabel: String? = nil
    ) async throws -> Scorer {
        try await ClassifierTests.load(name, sharePrefix: sharePrefix, contextSize: 1024, rewardLabel: rewardLabel)
    }

    static let request = ClassifierTests.request

    @Test func headIsReadFromMetadata() async throws {
        let scorer = try await Self.load()
        defer { scorer.shutdown() }
        let head = try #require(scorer.model.head)
        #expect(head.labels == ["helpful", "correct", "safe"])
        #expect(head.hiddenSize == 32)
        #expect(head.sourceArchitecture == "Qwen3ForSequenceClassification")
        #expect(scorer.model.classifierLabels == head.labels)
        #expect(scorer.methods == [.classifier], "no trained language-model head: likelihood and judge would be noise")
    }

    /// Rewards with the prefix shared through the KV cache equal the same sequences decoded whole, one by one.
    @Test func sharedPrefixMatchesSeparateDecodingExactly() async throws {
        let shared = try await Self.load()
        let separate = try await Self.load(sharePrefix: false)
        defer { shared.shutdown(); separate.shutdown() }
        let a = try await shared.bestOfN(Self.request)
        let b = try await separate.bestOfN(Self.request)
        #expect(a.usage.promptTokens > 0)
        #expect(
            a.rewardVectors == b.rewardVectors,
            "shared \(String(describing: a.rewardVectors)) vs separate \(String(describing: b.rewardVectors))")
        #expect(Set(a.rewards).count == 3, "different responses score differently: \(a.rewards)")
        // Raw logits: never a softmax over the labels.
        let vectors = try #require(a.rewardVectors)
        #expect(vectors.allSatisfy { $0.count == 3 })
        #expect(
            vectors.contains { abs($0.reduce(0, +) - 1) > 1e-3 || $0.contains { $0 < 0 } },
            "raw logits, not probabilities")
        #expect(a.labels == ["helpful", "correct", "safe"])
        #expect(a.rewards == vectors.map { $0[0] }, "the first label is the reward by default")
    }

    /// The head reads the last token: appending text to a response changes its reward; the same text scores the same
    /// whatever else is in the request.
    @Test func rewardComesFromTheResponsesLastToken() async throws {
        let scorer = try await Self.load()
        defer { scorer.shutdown() }
        let together = try await scorer.bestOfN(Self.request)
        for (i, response) in Self.request.responses.enumerated() {
            var alone = Self.request
            alone.responses = [response]
            let single = try await scorer.score(alone)
            // Alone vs in a wave of three: the candidate's own stream and tokens are the same, only the wave differs.
            #expect(single.rewardVectors?[0] == together.rewardVectors?[i], "response \(i)")
            let singleAgain = try await scorer.score(alone)
            #expect(singleAgain.rewardVectors == single.rewardVectors, "response \(i): the same request twice")
            alone.responses = [response + " indeed"]
            let longer = try await scorer.score(alone)
            #expect(
                longer.rewards[0] != single.rewards[0], "response \(i): a longer response is read at its new last token"
            )
        }
    }

    @Test func rewardLabelSelectsTheScalar() async throws {
        let byName = try await Self.load(rewardLabel: "correct")
        let byIndex = try await Self.load(rewardLabel: "2")
        defer { byName.shutdown(); byIndex.shutdown() }
        let a = try await byName.bestOfN(Self.request)
        let b = try await byIndex.bestOfN(Self.request)
        #expect(a.rewards == (a.rewardVectors ?? []).map { $0[1] })
        #expect(b.rewards == (b.rewardVectors ?? []).map { $0[2] })
        await #expect(throws: ScoringError.self) { _ = try await Self.load(rewardLabel: "harmless") }
    }

    /// Process rewards: the head at every step separator, and the final reward still at the last token. A step's
    /// reward depends only on what precedes it (causal attention), so it equals the final reward of the response
    /// cut right after that separator.
    @Test func stepRewardsAreTheHeadAtEachSeparator() async throws {
        let scorer = try await Self.load()
        defer { scorer.shutdown() }
        var request = Self.request
        request.responses = ["first the east wing<step>then the maritime collection<step>so the east wing"]
        request.options.stepRewards = true
        let result = try await scorer.score(request)
        let steps = try #require(result.stepRewards?.first)
        #expect(steps.count == 2)
        // The same prefix cut after the first separator, scored as a whole response: equal to step 1.
        var cut = Self.request
        cut.responses = ["first the east wing<step>"]
        let firstStep = try await scorer.score(cut)
        // Same tokens before the same position; only the micro-batch around it differs.
        #expect(
            abs(firstStep.rewards[0] - steps[0]) <= 1e-6 * max(1, abs(steps[0])),
            "step 1 \(steps[0]) vs cut response \(firstStep.rewards[0])")
        #expect(result.rewards[0] != steps[1], "the final reward is read after the last step's text")
    }

    @Test func stepRewardsWithoutASeparatorAreRefused() async throws {
        let scorer = try await ClassifierTests.load("tiny-causal-cls.gguf")
        defer { scorer.shutdown() }
        var request = Self.request
        request.options.stepRewards = true
        await #expect(
            throws: ScoringError.invalidRequest(
                field: "step_rewards",
                reason:
                    "the loaded model longrm-tiny-causal-classifier has no step separator (convert it with --step-separator, e.g. <extra_0>)"
            )
        ) {
            _ = try await scorer.score(request)
        }
    }

    /// User text stays plain text: `<step>` inside a response is the separator only for a model that names it.
    @Test func separatorIsOneTokenAndOtherSpecialTextIsNotParsed() async throws {
        let scorer = try await Self.load()
        defer { scorer.shutdown() }
        let model = scorer.model
        let separator = try #require(model.stepSeparatorToken)
        let planner = Planner(model: model, window: scorer.window)
        var request = Self.request
        request.responses = ["a<step>b", "a</s>b"]
        let planned = try planner.plan(request)
        let suffixes = planned.plan.groups[0].suffixes.map(\.tokens)
        #expect(suffixes[0].filter { $0 == separator }.count == 1)
        #expect(!suffixes[1].contains(2), "</s> typed by a user must not become the EOS token")
    }

    @Test func headOfTheWrongWidthIsRefusedAtLoad() async throws {
        await #expect(throws: ScoringError.self) { _ = try await Self.load("tiny-head-bad.gguf") }
        do {
            _ = try await Self.load("tiny-head-bad.gguf")
        } catch let ScoringError.modelLoadFailed(message) {
            #expect(message.contains("hidden size 32"), "\(message)")
        }
    }

    @Test func headArithmetic() {
        let head = ScoreHead(
            labels: ["a", "b"], hiddenSize: 3, weight: [1, 2, 3, -1, 0, 0.5], bias: [0.5, -1],
            padToken: 7, stepSeparator: nil, sourceArchitecture: "test")
        let out = [Float(1), 1, 2].withUnsafeBufferPointer { head.apply($0) }
        let expected: [Float] = [9.5, -1]  // 1·1 + 2·1 + 3·2 + 0.5 and −1·1 + 0·1 + 0.5·2 − 1
        #expect(out == expected)
        #expect(head.poolingIndex(in: [3, 4, 5]) == 2)
        #expect(head.poolingIndex(in: [3, 4, 7, 7]) == 1, "transformers pools at the last non-pad token")
    }
}
