import Foundation
import Testing

@testable import Scoring

/// The scheduler is a pure state machine: time is a parameter, so these tests need no sleeps.
@Suite struct SchedulerTests {
    typealias S = Scheduler<Int>
    static let limits = S.Limits(
        maxQueuedRequests: 3, maxQueuedTokens: 1000, maxJobsPerBatch: 2, maxBatchTokens: 600,
        affinityPatienceNanos: 1_000)

    func job(_ id: UInt64, tokens: Int = 100, key: String = "k", at: UInt64 = 0) -> S.Queued {
        S.Queued(id: id, tokens: tokens, contextKey: key, enqueuedAt: at, payload: Int(id))
    }

    @Test func refusesBeyondRequestAndTokenLimits() {
        var s = S(limits: Self.limits, workers: 1)
        #expect(s.enqueue(job(1)) == .accepted)
        #expect(s.enqueue(job(2)) == .accepted)
        #expect(s.enqueue(job(3)) == .accepted)
        guard case .rejected(let retry) = s.enqueue(job(4)) else { Issue.record("expected rejection"); return }
        #expect(retry >= 1)
        var t = S(limits: Self.limits, workers: 1)
        #expect(t.enqueue(job(1, tokens: 900)) == .accepted)
        #expect(t.enqueue(job(2, tokens: 200)) != .accepted)
    }

    @Test func oversizedRequestIsAdmittedIntoAnEmptyQueue() {
        var s = S(limits: Self.limits, workers: 1)
        #expect(s.enqueue(job(1, tokens: 5000)) == .accepted)
        #expect(s.isSaturated)
    }

    @Test func fifoWithBatchingUpToLimits() {
        var s = S(limits: Self.limits, workers: 1)
        _ = s.enqueue(job(1, tokens: 300)); _ = s.enqueue(job(2, tokens: 300)); _ = s.enqueue(job(3, tokens: 100))
        #expect(s.nextBatch(worker: 0, now: 0).map(\.id) == [1, 2])
        #expect(s.nextBatch(worker: 0, now: 0).map(\.id) == [3])
        #expect(s.nextBatch(worker: 0, now: 0).isEmpty)
        #expect(s.queuedTokens == 0)
    }

    @Test func tokenBudgetSkipsTooLargeFollowers() {
        var s = S(limits: Self.limits, workers: 1)
        _ = s.enqueue(job(1, tokens: 300)); _ = s.enqueue(job(2, tokens: 400)); _ = s.enqueue(job(3, tokens: 200))
        #expect(s.nextBatch(worker: 0, now: 0).map(\.id) == [1, 3])
    }

    @Test func removeDropsQueuedJobsOnce() {
        var s = S(limits: Self.limits, workers: 1)
        _ = s.enqueue(job(1)); _ = s.enqueue(job(2))
        #expect(s.remove(id: 1)?.id == 1)
        #expect(s.remove(id: 1) == nil)
        #expect(s.queuedRequests == 1 && s.queuedTokens == 100)
    }

    @Test func affinityRoutesToTheWarmWorkerUntilPatienceRunsOut() {
        var s = S(limits: Self.limits, workers: 2)
        s.report(worker: 1, cachedKeys: ["warm"])
        _ = s.enqueue(job(1, key: "warm", at: 100))
        #expect(s.nextBatch(worker: 0, now: 200).isEmpty, "worker 0 must leave the job to the warm worker")
        #expect(s.nextBatch(worker: 0, now: 1200).map(\.id) == [1], "after the patience any worker takes it")
        _ = s.enqueue(job(2, key: "warm", at: 2000))
        #expect(s.nextBatch(worker: 1, now: 2001).map(\.id) == [2])
    }
}

@Suite struct PrefillDeferralTests {
    @Test func aJobMostlyInsideThePrefillInFlightWaitsForIt() {
        let document: [Int32] = Array(1...1000)
        // Shares 900 of its 950 tokens: waits, then reuses the document from the cache.
        #expect(Session.waitsForPrefill(Array(document[..<900]) + Array(2000..<2050), inFlight: document, grid: 512))
        // Shares a 600-token system prompt of its 3,000: runs at once between the prefill's chunks.
        #expect(
            !Session.waitsForPrefill(Array(document[..<600]) + Array(5000..<7400), inFlight: document, grid: 512))
        // Less than a micro-batch in common: nothing to reuse on the grid.
        #expect(!Session.waitsForPrefill(Array(document[..<300]) + [9], inFlight: document, grid: 512))
    }

    @Test func theSchedulerLeavesOutWhatItIsToldTo() {
        var scheduler = Scheduler<String>(
            limits: .init(
                maxQueuedRequests: 8, maxQueuedTokens: 1000, maxJobsPerBatch: 4, maxBatchTokens: 1000,
                affinityPatienceNanos: 0),
            workers: 1)
        for (id, name) in ["waits", "runs"].enumerated() {
            _ = scheduler.enqueue(.init(id: UInt64(id), tokens: 10, contextKey: name, enqueuedAt: 0, payload: name))
        }
        #expect(scheduler.nextBatch(worker: 0, now: 0) { $0 != "waits" }.map(\.payload) == ["runs"])
        #expect(scheduler.nextBatch(worker: 0, now: 0).map(\.payload) == ["waits"])
    }
}

@Suite struct PrefixCacheTests {
    @Test func exactLookupMatchesTokensAndLevels() {
        var cache = PrefixCache(sequences: [0, 1, 2], maxTokens: 100)
        cache.insert(tokens: [1, 2, 3], sequence: 0, nextTokenLogits: [], protecting: [])
        cache.insert(tokens: [1, 2, 3, 4, 5], levelStarts: [3], sequence: 1, nextTokenLogits: [], protecting: [])
        #expect(cache.exact([1, 2, 3])?.sequence == 0)
        #expect(cache.exact([1, 2, 3, 4, 5], levelStarts: [3])?.sequence == 1)
        #expect(cache.exact([1, 2, 3, 4, 5]) == nil, "the same tokens decoded as other levels")
    }

    @Test func bestReuseKeepsTheMostTokensAtAPointBothWereSplitAt() {
        var cache = PrefixCache(sequences: [0, 1, 2], maxTokens: 100)
        let text: [Int32] = Array(1...20)
        cache.insert(tokens: Array(text[..<6]), sequence: 0, nextTokenLogits: [], protecting: [])
        cache.insert(tokens: Array(text[..<9]) + [99, 98], sequence: 1, nextTokenLogits: [], protecting: [])
        // Grid 4: entry 1 agrees on 9 tokens, cut back to the grid line 8; entry 0 (6 tokens) only to 4.
        #expect(
            cache.bestReuse(for: text, levelStarts: [], grid: 4)
                == .init(sequence: 1, keep: 8, isWhole: false, isPartial: false))
        // A level start at 6 in the wanted prefix: entry 0 ends there (whole), entry 1 was not split at 6 and
        // its grid line at 4 keeps less.
        #expect(
            cache.bestReuse(for: text, levelStarts: [6], grid: 4)
                == .init(sequence: 0, keep: 6, isWhole: true, isPartial: false))
        // A sliding window that dropped entry 1's early cells: entry 0 whole is the best left.
        #expect(
            cache.bestReuse(for: text, levelStarts: [], grid: 4) { $0.sequence == 1 ? 9 : 0 }
                == .init(sequence: 0, keep: 4, isWhole: false, isPartial: false))
        #expect(cache.bestReuse(for: [50, 51], levelStarts: [], grid: 4) == nil)
    }

    @Test func restartPoints() {
        let a: [Int32] = Array(1...20)
        // Never the wanted prefix's end: its logits must be computed.
        #expect(PrefixCache.restartPoint(cached: a, cachedStarts: [], wanted: a, wantedStarts: [], grid: 4) == 16)
        #expect(PrefixCache.restartPoint(cached: a, cachedStarts: [], wanted: a, wantedStarts: [], grid: 32) == 0)
        // Level starts agree below the point: 10 is a split of both.
        #expect(
            PrefixCache.restartPoint(cached: a, cachedStarts: [10], wanted: a, wantedStarts: [10], grid: 32) == 10)
        // Split differently at 10: nothing above 10 was computed alike, and 10 is a split of one only.
        #expect(
            PrefixCache.restartPoint(cached: a, cachedStarts: [], wanted: a, wantedStarts: [10], grid: 4) == 8)
        #expect(
            PrefixCache.restartPoint(cached: a, cachedStarts: [10, 14], wanted: a, wantedStarts: [10], grid: 32)
                == 10)
        // The cached entry's end is a split of its own.
        #expect(
            PrefixCache.restartPoint(
                cached: Array(a[..<7]), cachedStarts: [], wanted: a, wantedStarts: [7], grid: 4) == 7)
    }

    @Test func acquireEvictsLeastRecentlyUsedButNeverProtected() {
        var cache = PrefixCache(sequences: [0, 1], maxTokens: 100)
        cache.insert(tokens: [1], sequence: 0, nextTokenLogits: [], protecting: [])
        cache.insert(tokens: [2], sequence: 1, nextTokenLogits: [], protecting: [])
        _ = cache.exact([1])  // 0 is now the most recent
        #expect(cache.acquire(protecting: []) == 1)
        // Sequence 1's entry was evicted by that acquire, so it is free again until re-inserted.
        #expect(cache.acquire(protecting: [0]) == 1)
        cache.insert(tokens: [2], sequence: 1, nextTokenLogits: [], protecting: [])
        #expect(cache.acquire(protecting: [0, 1]) == nil)
        #expect(cache.acquire(protecting: [1]) == 0)
    }

    @Test func tokenBudgetEvicts() {
        var cache = PrefixCache(sequences: [0, 1, 2], maxTokens: 5)
        cache.insert(tokens: [1, 2, 3], sequence: 0, nextTokenLogits: [], protecting: [])
        let evicted = cache.insert(tokens: [4, 5, 6], sequence: 1, nextTokenLogits: [], protecting: [])
        #expect(evicted == [0])
        #expect(cache.cachedTokens == 3)
    }
}

@Suite struct RewardMathTests {
    @Test func swapAveragingAndConsistency() {
        // Order 1 prefers A (the first response); order 2 prefers B (again the first response).
        let agree = RewardMath.swapAveraged(firstOrder: [log(0.8), log(0.2)], secondOrder: [log(0.3), log(0.7)])
        #expect(abs(agree.probabilityFirst - 0.75) < 1e-6)
        #expect(agree.consistent)
        // Position bias: both orders prefer A, i.e. different responses.
        let biased = RewardMath.swapAveraged(firstOrder: [log(0.9), log(0.1)], secondOrder: [log(0.9), log(0.1)])
        #expect(abs(biased.probabilityFirst - 0.5) < 1e-6)
        #expect(!biased.consistent)
    }

    @Test func expectedRatingAndAggregation() {
        var digits = [Float](repeating: -30, count: 10)
        digits[7] = 0
        #expect(abs(RewardMath.expectedRating(digits) - 7) < 1e-6)
        #expect(RewardMath.aggregate([-1, -3], sum: false) == -2)
        #expect(RewardMath.aggregate([-1, -3], sum: true) == -4)
        #expect(abs(RewardMath.sigmoid(0) - 0.5) < 1e-12)
    }

    @Test func logSoftmaxMatchesDirectComputation() {
        let row: [Float] = [1, 2, 3]
        let expected = 2 - log(exp(1.0) + exp(2.0) + exp(3.0))
        #expect(abs(Double(LogSoftmax.logProbability(of: 1, in: row)) - expected) < 1e-6)
    }

    @Test func contextKeyIsStableAndDistinguishes() {
        #expect(ContextKey.of([1, 2, 3]) == ContextKey.of([1, 2, 3]))
        #expect(ContextKey.of([1, 2, 3]) != ContextKey.of([3, 2, 1]))
        #expect(ContextKey.of([]).count == 16)
    }
}
