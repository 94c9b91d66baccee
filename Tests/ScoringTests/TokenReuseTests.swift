import CLlama
import Foundation
import Testing

@testable import Scoring

/// Token-level prefix reuse (`PrefixCache.bestReuse`) on the real engine: a prefix decoded from a cached
/// entry cut at a restart point must give exactly the logits of decoding it from nothing, or a reward would
/// depend on what the cache happened to hold.
@Suite(.serialized) struct TokenReuseTests {
    static let model = Result { try Model(path: TestModel.path) }

    /// ~1,700 tokens of filler prose; `variant` changes the text from token `divergeAt` on.
    static func tokens(model: Model, divergeAt: Int? = nil, variant: UInt64 = 2) -> [Int32] {
        var cases = GroundingCases(seed: 7)
        let base = model.tokenize(cases.filler(sentences: 120).joined(separator: " "), addSpecial: true)
        guard let divergeAt else { return Array(base.prefix(1700)) }
        var other = GroundingCases(seed: variant)
        let tail = model.tokenize(other.filler(sentences: 120).joined(separator: " "))
        return Array((base.prefix(divergeAt) + tail).prefix(1700))
    }

    /// Decodes `levels` in a fresh session after `warmUp` (other prefixes), returning the logits after the
    /// prefix and the tokens reused.
    static func prefix(_ levels: [[Int32]], after warmUp: [[[Int32]]] = []) throws -> (logits: [Float], reused: Int) {
        let session = try Session(model: try model.get(), configuration: TestModel.small)
        for earlier in warmUp {
            var reused = 0
            var computed = 0
            _ = try session.ensurePrefix(earlier, control: JobControl(), reused: &reused, computed: &computed)
        }
        var reused = 0
        var computed = 0
        let entry = try session.ensurePrefix(levels, control: JobControl(), reused: &reused, computed: &computed)
        #expect(reused + computed == levels.joined().count)
        return (entry.nextTokenLogits, reused)
    }

    @Test func aCutEntryGivesTheLogitsOfDecodingFromNothing() throws {
        let model = try Self.model.get()
        let wanted = Self.tokens(model: model)
        let cold = try Self.prefix([wanted])
        // Another text sharing the first 1,600 tokens: cut back to the grid line at 1,536 (a multiple of the
        // micro-batch size), within reach of the cells the sliding-window layers kept (the last ~1,024).
        let sharing = Self.tokens(model: model, divergeAt: 1600)
        #expect(sharing[..<1600] == wanted[..<1600] && sharing[1600] != wanted[1600])
        let warm = try Self.prefix([wanted], after: [[sharing]])
        #expect(warm.reused == 1536)
        #expect(warm.logits == cold.logits)
    }

    @Test func aShorterEntryIsReusedUpToTheLastPointBothWereSplitAt() throws {
        let model = try Self.model.get()
        let wanted = Self.tokens(model: model)
        let cold = try Self.prefix([wanted])
        // 700 tokens as a level of their own: its micro-batches were [0, 512) and [512, 700); `wanted`, one level,
        // has [512, 1024), so only 512 tokens are computed alike.
        let warm = try Self.prefix([wanted], after: [[Array(wanted[..<700])]])
        #expect(warm.reused == 512)
        #expect(warm.logits == cold.logits)
        // Decoded as the same two levels, the whole entry is reused.
        let levels = [Array(wanted[..<700]), Array(wanted[700...])]
        let coldLevels = try Self.prefix(levels)
        let warmLevels = try Self.prefix(levels, after: [[Array(wanted[..<700])]])
        #expect(warmLevels.reused == 700)
        #expect(warmLevels.logits == coldLevels.logits)
    }

    @Test func noCutWhereTheSlidingWindowHasDroppedTheCells() throws {
        let model = try Self.model.get()
        #expect(model.slidingWindow > 0, "the default model has sliding-window layers")
        let wanted = Self.tokens(model: model)
        let cold = try Self.prefix([wanted])
        // Shares 600 tokens: the grid line at 512 is too far back from the entry's end (1,700) for its sliding-
        // window cells to be there, so nothing is reused and the result is still the cold one.
        let sharing = Self.tokens(model: model, divergeAt: 600)
        let warm = try Self.prefix([wanted], after: [[sharing]])
        #expect(warm.reused == 0)
        #expect(warm.logits == cold.logits)
    }
}

/// Issue 18: rendered queries of one call whose prompts share a long leading text (a system prompt, a
/// document) but differ after it compute the shared part once, with the rewards each gets alone.
@Suite(.serialized) struct SharedLeadingTextTests {
    static func request(question: String) -> ScoringRequest {
        var cases = GroundingCases(seed: 41)
        let document = cases.filler(sentences: 60).joined(separator: " ")
        let prompt = "<start_of_turn>user\n\(document)\n\nQuestion: \(question)<end_of_turn>\n<start_of_turn>model\n"
        return ScoringRequest(input: .raw(prompt), responses: ["The harbour office.", "Nothing is said."])
    }

    @Test func promptsSharingALeadingTextComputeItOnce() async throws {
        let requests = ["Which place opens early?", "What closes during the winter storms?"].map {
            Self.request(question: $0)
        }
        let together = try await TestModel.load(TestModel.small)
        defer { together.shutdown() }
        let results = try await withThrowingTaskGroup(of: (Int, ScoringResult).self) { group in
            for (i, request) in requests.enumerated() { group.addTask { (i, try await together.score(request)) } }
            var results: [Int: ScoringResult] = [:]
            for try await (i, result) in group { results[i] = result }
            return results
        }
        let reused = results.values.map(\.usage.reusedPromptTokens)
        #expect(
            reused.max() == 512 && reused.min() == 0, "one computes the leading text, the other reuses it: \(reused)")
        for (i, request) in requests.enumerated() {
            let alone = try await TestModel.load(TestModel.small)
            defer { alone.shutdown() }
            #expect(try await alone.score(request).rewards == results[i]?.rewards)
        }
    }
}
