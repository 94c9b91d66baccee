import Foundation
import Testing

@testable import Scoring

/// Pinned contexts on the real engine: a pinned context survives the traffic that would evict it, within a
/// budget of pins; unpinning lets it go.
@Suite(.serialized) struct PinTests {
    /// ~700 tokens: past the 512-token grid, so a later request on it reuses the pinned prefix.
    static func context(_ seed: UInt64) -> String {
        var cases = GroundingCases(seed: seed)
        return cases.filler(sentences: 45).joined(separator: " ")
    }

    static func request(_ context: String) -> ScoringRequest {
        ScoringRequest(
            input: .contextPrompt(context: context, prompt: "Which place is mentioned first?"),
            responses: ["The harbour office.", "A quiet library."])
    }

    /// Scores `pinned`'s context after four other contexts have gone through a 4-slot cache.
    static func reuseAfterTraffic(pinning: Bool) async throws -> (reused: Int, rewards: [Double], scorer: Scorer) {
        let scorer = try await TestModel.load(TestModel.small)
        let pinned = context(100)
        if pinning {
            let pin = try await scorer.pin(
                .contextPrompt(context: pinned, prompt: ""), method: .likelihood, ttl: .seconds(600))
            #expect(pin.computedTokens == pin.context.tokens && pin.context.tokens > 512)
            #expect(scorer.pinnedContexts.map(\.key) == [pin.context.key])
        }
        for seed in UInt64(101)...104 { _ = try await scorer.bestOfN(request(context(seed))) }
        let result = try await scorer.bestOfN(request(pinned))
        return (result.usage.reusedPromptTokens, result.rewards, scorer)
    }

    @Test func aPinnedContextOutlivesTheTrafficThatEvictsAnUnpinnedOne() async throws {
        let unpinned = try await Self.reuseAfterTraffic(pinning: false)
        unpinned.scorer.shutdown()
        #expect(unpinned.reused == 0, "four other contexts through four slots evict it")
        let pinned = try await Self.reuseAfterTraffic(pinning: true)
        defer { pinned.scorer.shutdown() }
        #expect(pinned.reused >= 512, "reused \(pinned.reused)")
        #expect(pinned.rewards == unpinned.rewards, "reuse must not change a reward")
    }

    @Test func pinsAreBoundedRenewedAndEnded() async throws {
        let scorer = try await TestModel.load(TestModel.small)
        defer { scorer.shutdown() }
        // Four cache slots keep two for scoring: two pins fit, a third is refused naming the budget.
        let first = try await scorer.pin(
            .contextPrompt(context: "First.", prompt: ""), method: .likelihood, ttl: .seconds(60))
        _ = try await scorer.pin(.contextPrompt(context: "Second.", prompt: ""), method: .likelihood, ttl: .seconds(60))
        await #expect(throws: ScoringError.self) {
            try await scorer.pin(.contextPrompt(context: "Third.", prompt: ""), method: .likelihood, ttl: .seconds(60))
        }
        // Pinning the same context again renews it (same key, later expiry), within the budget.
        let again = try await scorer.pin(
            .contextPrompt(context: "First.", prompt: ""), method: .likelihood, ttl: .seconds(120))
        #expect(again.context.key == first.context.key && again.context.expires > first.context.expires)
        #expect(again.reusedTokens == again.context.tokens && again.computedTokens == 0, "still cached")
        #expect(scorer.unpin(first.context.key))
        #expect(!scorer.unpin(first.context.key))
        _ = try await scorer.pin(.contextPrompt(context: "Third.", prompt: ""), method: .likelihood, ttl: .seconds(60))
        #expect(scorer.pinnedContexts.count == 2)
    }

    @Test func ledgerExpiresAndCounts() throws {
        var ledger = PinLedger(limits: .init(maxTokens: 100, maxContexts: 2))
        let now = ContinuousClock.now
        try ledger.pin(PinnedContext(key: "a", tokens: 60, expires: now + .seconds(10), method: .likelihood), at: now)
        #expect(throws: ScoringError.self) {
            try ledger.pin(
                PinnedContext(key: "b", tokens: 41, expires: now + .seconds(10), method: .likelihood), at: now)
        }
        try ledger.pin(PinnedContext(key: "b", tokens: 40, expires: now + .seconds(5), method: .likelihood), at: now)
        let both = ledger.keys(at: now)
        let later = ledger.keys(at: now + .seconds(6))
        let unpinnedExpired = ledger.unpin("b", at: now + .seconds(6))
        #expect(both == ["a", "b"])
        #expect(later == ["a"], "b expired")
        #expect(!unpinnedExpired)
    }
}
