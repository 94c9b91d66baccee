import Foundation
import Scoring
import Testing

/// The KV cache is sized by a budget, measured on the loaded model; a budget too small for the window is
/// refused at start-up with the figure it needs.
@Suite struct KVBudgetTests {
    @Test func budgetsParseAsTokensOrBytes() {
        #expect(KVBudget(parsing: "262144") == .tokens(262_144))
        #expect(KVBudget(parsing: "4096t") == .tokens(4096))
        #expect(KVBudget(parsing: "8GiB") == .bytes(8 << 30))
        #expect(KVBudget(parsing: "512MiB") == .bytes(512 << 20))
        #expect(KVBudget(parsing: "1.5GB") == .bytes(1_500_000_000))
        #expect(KVBudget(parsing: "lots") == nil)
        #expect(KVBudget(parsing: "-3GiB") == nil)
        #expect(KVBudget(parsing: "0") == nil)
    }

    @Test func accountingMatchesTheModelsGeometryAndTheBudgetSetsTheStreams() async throws {
        var configuration = TestModel.small
        configuration.generationSequences = 2
        configuration.kvBudget = .tokens((5 + 2) * 2048)
        let scorer = try await TestModel.load(configuration)
        defer { scorer.shutdown() }
        // Gemma 3 270M: 3 of 18 layers at full attention, 1 KV head of 256 dims, f16 K and V.
        #expect(scorer.kv.bytesPerToken == 3 * 1 * 256 * 2 * 2)
        #expect(scorer.kv.slidingBytesPerStream > 0)
        #expect(scorer.kv.window == 2048)
        // The judge's generation streams are paid from the budget first.
        #expect(scorer.kv.streamsPerWorker == 5 && scorer.kv.generationStreams == 2)
        #expect(scorer.configuration.cacheSlots == 5)
        #expect(scorer.kv.totalBytes == 7 * scorer.kv.bytesPerStream)
    }

    @Test func aBudgetTooSmallForTheWindowIsRefusedWithTheFigureNeeded() async throws {
        var configuration = TestModel.small
        configuration.generationSequences = 0
        configuration.kvBudget = .bytes(1 << 20)
        do {
            _ = try await TestModel.load(configuration)
            Issue.record("a 1 MiB budget for 2048-token contexts must be refused")
        } catch let error as ScoringError {
            guard case .invalidRequest(let field, let reason) = error else { Issue.record("\(error)"); return }
            #expect(field == "kv-budget")
            #expect(reason.contains("--kv-budget") && reason.contains("4096 tokens"), "\(reason)")
        }
    }

    /// The 8B-KV-geometry test model (scripts/make_kv_geometry_model.py): 128 KiB per token like Llama-3.1-8B,
    /// no sliding window, so every candidate is decoded inside its context's stream; it scores end to end.
    @Test func eightBGeometryIsAccountedAt128KiBPerToken() async throws {
        let path = ClassifierTests.modelPath("kv-geometry-8b.gguf")
        guard FileManager.default.fileExists(atPath: path) else {
            Issue.record("test model missing at \(path): run `make setup` (scripts/setup.sh) first")
            return
        }
        var configuration = EngineConfiguration(contextSize: 2048, threads: 1, cacheSlots: 2, batchSize: 512)
        configuration.generationSequences = 0
        configuration.kvBudget = .bytes(512 << 20)
        let scorer = try await Scorer.load(modelPath: path, configuration: configuration)
        defer { scorer.shutdown() }
        #expect(scorer.kv.bytesPerToken == 32 * 8 * 128 * 2 * 2)
        #expect(scorer.kv.slidingBytesPerStream == 0)
        #expect(scorer.kv.bytesPerStream == 256 << 20)
        #expect(scorer.kv.streamsPerWorker == 2)
        let request = ScoringRequest(
            input: .contextPrompt(
                context: String(repeating: "the code of locker 17 is 4821. ", count: 20),
                prompt: "what is the code"),
            responses: ["4821", "the code is 1234", "blue"])
        let result = try await scorer.bestOfN(request)
        #expect(result.rewards.count == 3 && result.rewards.allSatisfy(\.isFinite))
    }

    /// `--kv-type q8_0` (with flash attention, which llama.cpp needs to quantize V): the bytes per token are
    /// measured from llama.cpp's own report, 34 bytes per 32 values instead of 64, and rewards stay close to the
    /// f16 cache's. Both servers run flash attention, so the difference is the cache type's alone.
    @Test func q8_0CacheTakesAboutHalfTheBytesAndScoresCloseToF16() async throws {
        var f16 = TestModel.small
        f16.generationSequences = 0
        f16.cacheSlots = 2
        f16.flashAttention = true
        var q8 = f16
        q8.kvType = .q8_0
        let exact = try await TestModel.load(f16)
        defer { exact.shutdown() }
        let quantized = try await TestModel.load(q8)
        defer { quantized.shutdown() }
        #expect(exact.kv.cacheType == .f16 && quantized.kv.cacheType == .q8_0)
        #expect(exact.kv.bytesPerToken == 3072)
        // The report gives MiB to two decimals over the probe's 2048 cells: ±3 bytes per token.
        #expect(abs(quantized.kv.bytesPerToken - 3072 * 34 / 64) <= 3, "\(quantized.kv.bytesPerToken)")
        #expect(quantized.kv.bytesPerStream * 100 < exact.kv.bytesPerStream * 56)

        var generator = GroundingCases(seed: 13)
        var largest = 0.0, agreeing = 0
        let cases = generator.contextWithCases(facts: 4, fillerSentences: 70)
        for c in cases {
            let request = ScoringRequest(
                input: .contextPrompt(context: c.context, prompt: c.question), responses: [c.grounded, c.wrong])
            let a = try await exact.bestOfN(request), b = try await quantized.bestOfN(request)
            #expect(b.rewards.allSatisfy { $0.isFinite })
            largest = max(largest, zip(a.rewards, b.rewards).map { abs($0 - $1) }.max() ?? 0)
            if a.best == b.best { agreeing += 1 }
        }
        print("q8_0 KV against f16 KV: max |Δreward| \(largest), same best \(agreeing)/\(cases.count)")
        // Measured 0.019 here (2026-11-30, AMD EPYC, docs/PERFORMANCE.md); the bound leaves room for other CPUs' kernels.
        #expect(largest < 0.05)
        #expect(agreeing == cases.count)
    }
}
