import Foundation
import Scoring
import Testing

/// Bad input gives typed errors, never a crash.
@Suite struct ErrorTests {
    static let input = PromptInput.contextPrompt(context: "Some context.", prompt: "A question?")

    func expectInvalid(_ field: String, _ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("expected invalidRequest(\(field))")
        } catch let ScoringError.invalidRequest(got, _) {
            #expect(got.description == field)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func responseCounts() async throws {
        let scorer = try await TestModel.scorer()
        await expectInvalid("responses") {
            _ = try await scorer.score(ScoringRequest(input: Self.input, responses: []))
        }
        await expectInvalid("responses") {
            _ = try await scorer.pairwise(ScoringRequest(input: Self.input, responses: ["a"]))
        }
        await expectInvalid("responses") {
            _ = try await scorer.pairwise(ScoringRequest(input: Self.input, responses: ["a", "b", "c"]))
        }
        await expectInvalid("responses") {
            _ = try await scorer.bestOfN(ScoringRequest(input: Self.input, responses: ["a"]))
        }
        await expectInvalid("responses") {
            _ = try await scorer.bestOfN(ScoringRequest(input: Self.input, responses: Array(repeating: "x", count: 65)))
        }
    }

    @Test func emptyStrings() async throws {
        let scorer = try await TestModel.scorer()
        await expectInvalid("responses[1]") {
            _ = try await scorer.pairwise(ScoringRequest(input: Self.input, responses: ["a", ""]))
        }
        await expectInvalid("prompt") {
            _ = try await scorer.pairwise(
                ScoringRequest(input: .contextPrompt(context: "", prompt: ""), responses: ["a", "b"]))
        }
        await expectInvalid("messages") {
            _ = try await scorer.pairwise(ScoringRequest(input: .messages([]), responses: ["a", "b"]))
        }
    }

    @Test func contextTooLongNamesTokensNeededAndAvailable() async throws {
        let scorer = try await TestModel.scorer()
        let context = String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 400)
        do {
            _ = try await scorer.pairwise(
                ScoringRequest(input: .contextPrompt(context: context, prompt: "Q?"), responses: ["a", "b"]))
            Issue.record("expected contextTooLong")
        } catch let ScoringError.contextTooLong(needed, available) {
            #expect(needed > available)
            #expect(available == scorer.window)
        }
    }

    @Test func classifierOnAModelWithoutAHead() async throws {
        let scorer = try await TestModel.scorer()
        #expect(!scorer.methods.contains(.classifier))
        await #expect(throws: ScoringError.self) {
            _ = try await scorer.pairwise(
                ScoringRequest(input: Self.input, responses: ["a", "b"], options: ScoringOptions(method: .classifier)))
        }
    }

    @Test func normalisationMustFitTheMethod() async throws {
        let scorer = try await TestModel.scorer()
        await expectInvalid("normalize") {
            _ = try await scorer.pairwise(
                ScoringRequest(
                    input: Self.input, responses: ["a", "b"],
                    options: ScoringOptions(method: .likelihood, normalization: .sigmoid)))
        }
    }

    @Test func missingAndInvalidModelFiles() async throws {
        await #expect(throws: ScoringError.self) { _ = try await Scorer.load(modelPath: "/nonexistent/model.gguf") }
        let notGGUF = "/tmp/longrm-not-a-model.gguf"
        try "plain text".write(toFile: notGGUF, atomically: true, encoding: .utf8)
        await #expect(throws: ScoringError.self) { _ = try await Scorer.load(modelPath: notGGUF) }
    }
}
