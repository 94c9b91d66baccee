/// What the engine must compute for one request, in tokens. Pure data: built by `Planner`, run by `Session`.
struct JobPlan: Sendable, Equatable {
    /// Sequences that share a prefix. A request has one group, two with the "lift" normalisation.
    var groups: [GroupPlan]

    /// The same computation without a shared prefix: every candidate carries the whole prefix and is decoded
    /// from scratch. The reference the shared-prefix path is measured against.
    func unshared() -> JobPlan {
        JobPlan(
            groups: groups.map { group in
                let prefix = group.prefix
                return GroupPlan(
                    levels: [],
                    suffixes: group.suffixes.map {
                        SuffixPlan(
                            tokens: prefix + $0.tokens, output: $0.output.shifted(by: prefix.count),
                            scoredFrom: $0.scoredFrom + prefix.count)
                    })
            })
    }
    /// Generation jobs stay resident across decode steps (EnginePool runs them apart from scoring waves).
    var generates: Bool {
        groups.contains { $0.suffixes.contains { if case .generate = $0.output { true } else { false } } }
    }
    var totalTokens: Int { groups.reduce(0) { $0 + $1.prefixCount + $1.suffixes.reduce(0) { $0 + $1.tokens.count } } }
}

struct GroupPlan: Sendable, Equatable {
    /// Prefix levels, each extending the one before (context block, then prompt). Each level is a cache
    /// entry of its own. Empty for encoder-only models, which cannot share a prefix.
    var levels: [[Int32]]
    var suffixes: [SuffixPlan]
    var prefix: [Int32] { levels.flatMap { $0 } }
    var prefixCount: Int { levels.reduce(0) { $0 + $1.count } }
}

struct SuffixPlan: Sendable, Equatable {
    var tokens: [Int32]
    var output: OutputKind
    /// For `tokenLogProbs`: the first token that is scored. Non-zero when the prefix travels inside the
    /// suffix (prefix sharing off), so the prefix's own tokens are not scored.
    var scoredFrom: Int = 0
}

enum OutputKind: Sendable, Equatable {
    /// log p(token) for every suffix token given all before it (the first from the prefix's last logits).
    case tokenLogProbs
    /// Log-probabilities of these candidate tokens at the last position, renormalised over the set.
    case verdict([Int32])
    /// The classifier head's outputs (rank pooling) for the whole sequence.
    case pooled
    /// Greedy generation after the suffix (Session+Generation.swift); the result is in
    /// `GroupOutcome.generated`, not `values`.
    case generate(GenerationSpec)
    /// The model's `ScoreHead` applied to the final-norm hidden state at these suffix positions (ascending):
    /// K logits per position, concatenated in position order.
    case head(positions: [Int])

    /// The same output for a suffix that now carries `offset` more tokens in front (prefix sharing off).
    func shifted(by offset: Int) -> OutputKind {
        if case .head(let positions) = self { return .head(positions: positions.map { $0 + offset }) }
        return self
    }
}

/// Per suffix, in plan order: log-probabilities, verdict log-probabilities or classifier outputs.
struct GroupOutcome: Sendable, Equatable {
    var values: [[Float]]
    /// Per suffix with a `.generate` output, in plan order (empty for the other kinds).
    var generated: [GeneratedText] = []
}

struct JobOutcome: Sendable, Equatable {
    var groups: [GroupOutcome]
    var reusedTokens: Int
    var computedTokens: Int
}
