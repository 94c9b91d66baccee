/// Turns a judge run's outputs (verdict-token log-probabilities, or generated texts) into rewards, the
/// pairwise probability and the per-prompt report. Pure.
///
/// Rewards, by template kind:
/// - pair: P(first better) per order (probability mode: P(A) in order 1, P(B) in order 2; generation: 1, 0,
///   or 0.5 for a tie). When both orders favour the same response, probability = their mean; when they
///   disagree, or a verdict could not be read, the result is a tie: probability 0.5, rewards [0.5, 0.5],
///   `consistent: false`. rewards = [probability, 1 − probability].
/// - rank: per prompt, each shown candidate's score (probability mode: P(it is ranked first) read after
///   `[[`; generation: 1 − position/(n − 1), tied places sharing their mean position); reward = the mean over
///   the rotations that showed it and were read (0.5 when none was). On /v1/pairwise an inconsistent pair is
///   a tie as above.
/// - critique: probability mode: the expected score over the scale's tokens; generation: the score written,
///   the scale's midpoint when none could be read.
/// - plain: as before (P(" A")/P(" B") for pairs, the expected 0–9 rating otherwise).
enum JudgeScoring {
    struct Output {
        var rewards: [Double]
        /// Pairwise: P(first better) after the swap rule; nil where Bradley–Terry applies (critique).
        var probability: Double?
        var report: JudgeReport
    }

    /// One prompt's reading: a score per shown candidate (in shown order), nil when unreadable.
    struct Reading {
        var scores: [Double]?
        var verdict: JudgeVerdict
    }

    static func score(_ run: JudgeRun, outcome: JobOutcome, pairwise: Bool) -> Output {
        let readings = run.prompts.map { read($0, run: run, outcome: outcome) }
        let template = run.template
        let kind =
            template.kind == .plain
            ? (run.prompts.first?.shown.count == 2 ? JudgeTemplate.Kind.pair : .critique) : template.kind
        var rewards: [Double]
        var probability: Double?
        var consistent: Bool?
        switch kind {
        case .pair:
            let first = zip(run.prompts, readings).map { prompt, reading in
                reading.scores.map { $0[prompt.shown.firstIndex(of: 0) ?? 0] }
            }
            let swapped = swapRule(first.first ?? nil, first.count > 1 ? first[1] : nil)
            probability = swapped.probability
            consistent = swapped.consistent
            rewards = [swapped.probability, 1 - swapped.probability]
        case .rank:
            var sums = [Double](repeating: 0, count: run.candidateCount)
            var counts = [Int](repeating: 0, count: run.candidateCount)
            var bestPerChunk: [Int: Set<Set<Int>>] = [:]
            var allRead = true
            for (prompt, reading) in zip(run.prompts, readings) {
                guard let scores = reading.scores else { allRead = false; continue }
                for (k, candidate) in prompt.shown.enumerated() {
                    sums[candidate] += scores[k]
                    counts[candidate] += 1
                }
                let top = scores.max() ?? 0
                bestPerChunk[prompt.chunk, default: []].insert(
                    Set(prompt.shown.indices.filter { scores[$0] == top }.map { prompt.shown[$0] }))
            }
            rewards = zip(sums, counts).map { $1 > 0 ? $0 / Double($1) : 0.5 }
            consistent = allRead && bestPerChunk.values.allSatisfy { $0.count == 1 }
            if pairwise && run.candidateCount == 2 {
                if consistent == true {
                    probability = rewards[0] + rewards[1] > 0 ? rewards[0] / (rewards[0] + rewards[1]) : 0.5
                } else {
                    probability = 0.5
                    rewards = [0.5, 0.5]
                }
            }
        case .critique, .plain:
            let midpoint = Double(template.scaleMin + template.scaleMax) / 2
            rewards = [Double](repeating: midpoint, count: run.candidateCount)
            for (prompt, reading) in zip(run.prompts, readings) {
                if let score = reading.scores?.first { rewards[prompt.shown[0]] = score }
            }
        }
        return Output(
            rewards: rewards, probability: probability,
            report: JudgeReport(
                template: template.name, mode: run.mode, consistent: consistent, verdicts: readings.map(\.verdict)))
    }

    /// Position-swap rule for a pair: P(first better) from each order; agreement keeps their mean, anything
    /// else (disagreement, an unreadable order) is a tie.
    static func swapRule(_ p1: Double?, _ p2: Double?) -> (probability: Double, consistent: Bool) {
        guard let p1, let p2 else { return (0.5, false) }
        func side(_ p: Double) -> Int { p > 0.5 ? 1 : p < 0.5 ? -1 : 0 }
        guard side(p1) == side(p2) else { return (0.5, false) }
        return ((p1 + p2) / 2, true)
    }

    /// Scores per shown candidate from one prompt's output, and its report line.
    static func read(_ prompt: JudgeRun.Prompt, run: JudgeRun, outcome: JobOutcome) -> Reading {
        let template = run.template
        let group = outcome.groups[prompt.group]
        var verdict = JudgeVerdict(shown: prompt.shown)
        let n = prompt.shown.count
        if run.mode == .probability {
            let probabilities = RewardMath.normalized(group.values[prompt.suffix])
            let best = probabilities.indices.max { probabilities[$0] < probabilities[$1] } ?? 0
            switch template.kind {
            case .pair, .rank:
                verdict.verdict = "[[\(JudgeLabels.name(best))]]"
                return Reading(scores: probabilities, verdict: verdict)
            case .critique:
                verdict.verdict = "[Score: \(template.scaleMin + best)]"
                let expected = probabilities.enumerated().reduce(0) {
                    $0 + Double(template.scaleMin + $1.offset) * $1.element
                }
                return Reading(scores: [expected], verdict: verdict)
            case .plain:
                if n == 2 && probabilities.count == 2 {
                    verdict.verdict = JudgeLabels.name(best)
                    return Reading(scores: probabilities, verdict: verdict)
                }
                verdict.verdict = String(best)
                return Reading(scores: [RewardMath.expectedRating(group.values[prompt.suffix])], verdict: verdict)
            }
        }
        guard prompt.suffix < group.generated.count else {
            verdict.reason = "no generation"
            return Reading(scores: nil, verdict: verdict)
        }
        let generated = group.generated[prompt.suffix]
        verdict.generatedTokens = generated.tokens.count
        verdict.stop = generated.stop.rawValue
        if run.returnText { verdict.text = generated.text }
        let reading = VerdictParser(template: template, labelCount: n).read(generated.text)
        verdict.verdict = reading.written
        guard let parsed = reading.verdict else {
            verdict.verdict = nil
            verdict.reason =
                generated.stop == .maxNewTokens && reading.written == nil
                ? "reached max_new_tokens (\(generated.tokens.count)) without a verdict" : reading.reason
            return Reading(scores: nil, verdict: verdict)
        }
        switch parsed {
        case .pair(let label):
            guard let label else { return Reading(scores: [0.5, 0.5], verdict: verdict) }
            return Reading(scores: label == 0 ? [1, 0] : [0, 1], verdict: verdict)
        case .ranking(let groups):
            var scores = [Double](repeating: 0, count: n)
            var place = 0
            for tied in groups {
                let meanPosition = Double(place) + Double(tied.count - 1) / 2
                for label in tied { scores[label] = n > 1 ? 1 - meanPosition / Double(n - 1) : 1 }
                place += tied.count
            }
            return Reading(scores: scores, verdict: verdict)
        case .score(let value):
            return Reading(scores: [value], verdict: verdict)
        }
    }
}

extension JudgeVerdict {
    init(shown: [Int]) {
        self.init(shown: shown, verdict: nil, reason: nil, text: nil, generatedTokens: nil, stop: nil)
    }
}
