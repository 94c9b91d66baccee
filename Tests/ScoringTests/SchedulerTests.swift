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

@Suite struct PrefixCacheTests {
    @Test func exactAndLongestPrefixLookups() {
        var cache = PrefixCache(sequences: [0, 1, 2], maxTokens: 100)
        cache.insert(tokens: [1, 2, 3], sequence: 0, nextTokenLogits: [], protecting: [])
        cache.insert(tokens: [1, 2, 3, 4, 5], sequence: 1, nextTokenLogits: [], protecting: [])
        #expect(cache.exact([1, 2, 3])?.sequence == 0)
        #expect(cache.longestPrefix(of: [1, 2, 3, 4, 5, 6])?.sequence == 1)
        #expect(cache.longestPrefix(of: [1, 2, 3, 9])?.sequence == 0)
        #expect(cache.longestPrefix(of: [9]) == nil)
        #expect(cache.longestPrefix(of: [1, 2, 3]) == nil, "an exact match is not a proper prefix")
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
