/// `POST/GET/DELETE /v1/contexts`: a long context computed once and kept in the KV cache for a time, so an RLHF
/// loop scoring thousands of rollouts against one document never waits for its prefill again (issue 13).
extension Scorer {
    /// Computes the prefix `input` gives under `method` (the context's level alone when no prompt is given) and
    /// pins it for `ttl`. Pinning a key again renews it. Throws `storageFull` when pins already hold what the
    /// KV budget allows.
    public func pin(
        _ input: PromptInput, method: ScoringMethod, ttl: Duration, deadline: ContinuousClock.Instant? = nil
    ) async throws(ScoringError) -> PinResult {
        let levels = try pinnedLevels(input, method: method)
        let tokens = levels.reduce(0) { $0 + $1.count }
        let key = ContextKey.of(levels.flatMap { $0 })
        let now = ContinuousClock.now
        let renewing = pool.pins.list(at: now).contains { $0.key == key }
        let pinned = PinnedContext(key: key, tokens: tokens, expires: now + ttl, method: method)
        // On the board before it is computed: the entry is protected from the moment it exists.
        try pool.pins.pin(pinned, at: now)
        let completed: EnginePool.Completed
        do {
            completed = try await runOnPool(
                JobPlan(groups: [GroupPlan(levels: levels, suffixes: [])]), contextKey: key, deadline: deadline)
        } catch {
            if !renewing { _ = pool.pins.unpin(key, at: .now) }
            throw error
        }
        return PinResult(
            context: pinned, reusedTokens: completed.outcome.reusedTokens,
            computedTokens: completed.outcome.computedTokens,
            timings: Timings(queueMs: completed.queueMs, computeMs: completed.computeMs))
    }

    /// Whether `key` was pinned. Its cache entry stays until the cache needs the room.
    public func unpin(_ key: String) -> Bool { pool.pins.unpin(key, at: .now) }

    public var pinnedContexts: [PinnedContext] { pool.pins.list(at: .now) }

    /// The prefix levels a request on `input` with `method` would be planned with. A context sent without a
    /// prompt pins the context's level only, which every question on it shares.
    func pinnedLevels(_ input: PromptInput, method: ScoringMethod) throws(ScoringError) -> [[Int32]] {
        guard model.isCausal else {
            throw .unsupportedMethod(method, reason: "an encoder keeps no KV cache: there is nothing to pin")
        }
        let placeholder = ScoringRequest(input: input, responses: ["A", "B"], options: ScoringOptions(method: method))
        let planned = try Planner(model: model, window: window, judge: judge).plan(placeholder, pairwise: true)
        var levels = planned.plan.groups[0].levels
        if case .contextPrompt(_, let prompt) = input, prompt.isEmpty, levels.count > 1 { levels.removeLast() }
        guard !levels.isEmpty else { throw .invalidRequest(field: "context", reason: "nothing to pin") }
        return levels
    }
}

/// A pin and what computing it cost.
public struct PinResult: Sendable, Equatable {
    public var context: PinnedContext
    public var reusedTokens: Int
    public var computedTokens: Int
    public var timings: Timings
}
