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
        configuration.kvBudget = .tokens(5 * 2048)
        let scorer = try await TestModel.load(configuration)
        defer { scorer.shutdown() }
        // Gemma 3 270M: 3 of 18 layers at full attention, 1 KV head of 256 dims, f16 K and V.
        #expect(scorer.kv.bytesPerToken == 3 * 1 * 256 * 2 * 2)
        #expect(scorer.kv.slidingBytesPerStream > 0)
        #expect(scorer.kv.window == 2048)
        #expect(scorer.kv.streamsPerWorker == 5)
        #expect(scorer.configuration.cacheSlots == 5)
    }

    @Test func aBudgetTooSmallForTheWindowIsRefusedWithTheFigureNeeded() async throws {
        var configuration = TestModel.small
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
}
