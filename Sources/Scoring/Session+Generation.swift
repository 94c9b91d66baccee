import CLlama
import Foundation

/// What a `.generate` suffix asks for: greedy decoding of at most `maxNewTokens`, stopping early at the end
/// of the turn or once `stopPattern` (the template's verdict pattern) matches the text so far.
struct GenerationSpec: Sendable, Equatable {
    var maxNewTokens: Int
    var stopPattern: String?
    /// Record each chosen token's log-probability and this many most likely alternatives (chat completions'
    /// `logprobs`); nil records nothing.
    var topLogprobs: Int? = nil
}

/// One candidate's generated continuation.
struct GeneratedText: Sendable, Equatable {
    enum Stop: String, Sendable {
        case verdict
        case endOfTurn = "end_of_turn"
        case maxNewTokens = "max_new_tokens"
    }
    var tokens: [Int32]
    var text: String
    var stop: Stop
    /// Per generated token, when the spec asked for them.
    var logprobs: [TokenLogprobs]? = nil
}

/// A generated token's log-probability under the model (full softmax) and the most likely tokens at its
/// position, best first (ties: lowest id), the chosen one among them when it ranks.
public struct TokenLogprobs: Sendable, Equatable {
    public struct Alternative: Sendable, Equatable {
        public var token: Int32
        public var bytes: [UInt8]
        public var logprob: Double
    }
    public var chosen: Alternative
    public var top: [Alternative]
}

/// The generation jobs of one session: continuous batching. A job's candidates each lease a working
/// sequence for as long as they generate; every step decodes one token for every live candidate of every
/// job in one llama_decode, and jobs join (or leave) between steps. Confined to the session's thread.
///
/// Merging note: this is kept apart from `Session.execute` on purpose. Generation has sequences of its own
/// (`Session.generationSequences`, after the cache sequences): sharing the working sequences made
/// scoring waves smaller while generation ran, and a candidate's reward depends on how many share its wave
/// (measured: up to 0.045 on a summed log-prob, `JudgeGenerationTests.scoringBesideGenerationIsUnchanged`).
final class GenerationState {
    final class ActiveJob {
        let id: UInt64
        let job: Session.Job
        var generated: [[GeneratedText?]]
        var remaining: Int
        var reused = 0
        var computed = 0
        var startedPrefix = false
        init(id: UInt64, job: Session.Job) {
            self.id = id
            self.job = job
            generated = job.plan.groups.map { [GeneratedText?](repeating: nil, count: $0.suffixes.count) }
            remaining = job.plan.groups.reduce(0) { $0 + $1.suffixes.count }
        }
    }

    final class Candidate {
        let job: ActiveJob
        let group: Int
        let suffix: Int
        let spec: GenerationSpec
        let stop: NSRegularExpression?
        var sequence: Int32 = -1
        /// Position of `pending` in the sequence.
        var position = 0
        /// The last generated token, not yet decoded.
        var pending: Int32 = 0
        var tokens: [Int32] = []
        var bytes: [UInt8] = []
        var logprobs: [TokenLogprobs] = []
        init(job: ActiveJob, group: Int, suffix: Int, spec: GenerationSpec) {
            self.job = job
            self.group = group
            self.suffix = suffix
            self.spec = spec
            stop = spec.stopPattern.flatMap { try? NSRegularExpression(pattern: $0) }
        }
    }

    var jobs: [UInt64: ActiveJob] = [:]
    /// Candidates admitted but without a working sequence yet, in arrival order.
    var waiting: [Candidate] = []
    var live: [Candidate] = []
    var leased: Set<Int32> = []
    /// Decode steps run, and candidate tokens decoded in them: their ratio is the continuous batch's width.
    var steps = 0
    var stepTokens = 0
}

extension Session {
    typealias Finished = (id: UInt64, result: Result<JobOutcome, ScoringError>)

    var isGenerating: Bool { !generation.jobs.isEmpty }

    private var leaseLimit: Int { generationSequences.count }

    /// Admits a generation job. Bookkeeping only (no decoding): safe to call between the chunks of a prefill.
    func enqueueGeneration(_ job: Job, id: UInt64) {
        let active = GenerationState.ActiveJob(id: id, job: job)
        generation.jobs[id] = active
        for (g, group) in job.plan.groups.enumerated() {
            for (s, suffix) in group.suffixes.enumerated() {
                guard case .generate(let spec) = suffix.output else { continue }
                generation.waiting.append(GenerationState.Candidate(job: active, group: g, suffix: s, spec: spec))
            }
        }
        if active.remaining == 0 { generation.jobs[id] = nil }
    }

    /// One step: drops cancelled jobs, starts waiting candidates while working sequences are free, then
    /// decodes one token for every live candidate in one llama_decode. Returns the jobs that ended.
    func stepGeneration() -> [Finished] {
        var finished: [Finished] = []
        for job in generation.jobs.values where job.job.control.isCancelled {
            finished.append((job.id, .failure(job.job.control.error)))
            drop(job.id)
        }
        while generation.leased.count < leaseLimit, !generation.waiting.isEmpty {
            let candidate = generation.waiting.removeFirst()
            guard generation.jobs[candidate.job.id] != nil else { continue }
            do throws(ScoringError) {
                try start(candidate)
            } catch {
                finished.append((candidate.job.id, .failure(error)))
                drop(candidate.job.id)
            }
            if let done = completeIfDone(candidate.job) { finished.append(done) }
        }
        let stepping = generation.live
        guard !stepping.isEmpty else { return finished }
        clearBatch()
        for candidate in stepping {
            add(candidate.pending, position: candidate.position, sequence: candidate.sequence, output: true)
        }
        do throws(ScoringError) {
            try decode()
            generation.steps += 1
            generation.stepTokens += stepping.count
            for (row, candidate) in stepping.enumerated() {
                guard let logits = llama_get_logits_ith(context, Int32(row)) else {
                    throw .engineFailure("missing logits row")
                }
                candidate.position += 1
                candidate.job.computed += 1
                accept(candidate, UnsafeBufferPointer(start: logits, count: vocabularySize))
            }
        } catch {
            for id in Set(stepping.map(\.job.id)) where generation.jobs[id] != nil {
                finished.append((id, .failure(error == .cancelled ? generation.jobs[id]!.job.control.error : error)))
                drop(id)
            }
            return finished
        }
        for job in Set(stepping.map(\.job.id)).compactMap({ generation.jobs[$0] }) {
            if let done = completeIfDone(job) { finished.append(done) }
        }
        return finished
    }

    /// Ends every generation job (the pool is stopping).
    func cancelAllGeneration() -> [UInt64] {
        let ids = Array(generation.jobs.keys)
        for id in ids { drop(id) }
        return ids
    }

    // MARK: steps

    /// Prefix from the cache (or computed), a leased working sequence with a copy of it, the candidate's
    /// suffix decoded alone (so its first token never depends on what else is in flight), first token chosen.
    private func start(_ candidate: GenerationState.Candidate) throws(ScoringError) {
        let job = candidate.job
        if job.job.control.isCancelled { throw job.job.control.error }
        let group = job.job.plan.groups[candidate.group]
        let suffix = group.suffixes[candidate.suffix]
        var prefix: PrefixCache.Entry?
        if !group.levels.isEmpty {
            var reused = 0
            prefix = try ensurePrefix(group.levels, control: job.job.control, reused: &reused, computed: &job.computed)
            // Only what earlier requests left counts as reuse, not the prefix this job's first candidate made.
            if !job.startedPrefix { job.reused = max(job.reused, reused) }
            job.startedPrefix = true
        }
        guard let sequence = generationSequences.first(where: { !generation.leased.contains($0) }), let memory else {
            throw .engineFailure("no sequence free for generation")
        }
        generation.leased.insert(sequence)
        candidate.sequence = sequence
        generation.live.append(candidate)
        _ = llama_memory_seq_rm(memory, sequence, -1, -1)
        if let prefix { llama_memory_seq_cp(memory, prefix.sequence, sequence, -1, -1) }
        let logits: [Float]
        if suffix.tokens.isEmpty {
            logits = prefix?.nextTokenLogits ?? []
        } else {
            let outer = abortSlot.set(job.job.control)
            defer { abortSlot.set(outer) }
            do throws(ScoringError) {
                logits = try decodeSequence(
                    sequence, suffix.tokens, startPosition: group.prefixCount, control: job.job.control)
            } catch {
                throw error == .cancelled ? job.job.control.error : error
            }
            job.computed += suffix.tokens.count
        }
        guard logits.count == vocabularySize else { throw .engineFailure("no logits after the judge prompt") }
        candidate.position = group.prefixCount + suffix.tokens.count
        logits.withUnsafeBufferPointer { accept(candidate, $0) }
    }

    /// Takes the greedy token of `logits`: ends the candidate at the end of the turn, at its verdict or at the cap.
    private func accept(_ candidate: GenerationState.Candidate, _ logits: UnsafeBufferPointer<Float>) {
        let token = Self.argmax(logits)
        if llama_vocab_is_eog(model.vocab, token) { return finish(candidate, .endOfTurn) }
        candidate.tokens.append(token)
        candidate.bytes += model.pieceBytes(token)
        if let top = candidate.spec.topLogprobs { candidate.logprobs.append(logprobs(logits, chosen: token, top: top)) }
        if let stop = candidate.stop {
            let text = String(decoding: candidate.bytes, as: UTF8.self)
            if stop.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil {
                return finish(candidate, .verdict)
            }
        }
        if candidate.tokens.count >= candidate.spec.maxNewTokens { return finish(candidate, .maxNewTokens) }
        candidate.pending = token
    }

    private func finish(_ candidate: GenerationState.Candidate, _ stop: GeneratedText.Stop) {
        candidate.job.generated[candidate.group][candidate.suffix] = GeneratedText(
            tokens: candidate.tokens, text: String(decoding: candidate.bytes, as: UTF8.self), stop: stop,
            logprobs: candidate.spec.topLogprobs == nil ? nil : candidate.logprobs)
        candidate.job.remaining -= 1
        release(candidate)
    }

    private func release(_ candidate: GenerationState.Candidate) {
        generation.live.removeAll { $0 === candidate }
        guard candidate.sequence >= 0 else { return }
        if let memory { _ = llama_memory_seq_rm(memory, candidate.sequence, -1, -1) }
        generation.leased.remove(candidate.sequence)
        candidate.sequence = -1
    }

    private func completeIfDone(_ job: GenerationState.ActiveJob) -> Finished? {
        guard job.remaining == 0, generation.jobs[job.id] != nil else { return nil }
        generation.jobs[job.id] = nil
        let groups = zip(job.job.plan.groups, job.generated).map { group, generated in
            GroupOutcome(values: group.suffixes.map { _ in [] }, generated: generated.compactMap { $0 })
        }
        return (job.id, .success(JobOutcome(groups: groups, reusedTokens: job.reused, computedTokens: job.computed)))
    }

    private func drop(_ id: UInt64) {
        generation.jobs[id] = nil
        generation.waiting.removeAll { $0.job.id == id }
        for candidate in generation.live where candidate.job.id == id { release(candidate) }
    }

    /// The chosen token's log-probability and the `top` most likely tokens, from one position's logits.
    private func logprobs(_ logits: UnsafeBufferPointer<Float>, chosen: Int32, top: Int) -> TokenLogprobs {
        let lse = LogSoftmax.logSumExp(logits)
        let alternative = { (token: Int32) in
            TokenLogprobs.Alternative(
                token: token, bytes: self.model.pieceBytes(token), logprob: Double(logits[Int(token)]) - lse)
        }
        return TokenLogprobs(chosen: alternative(chosen), top: Self.topTokens(logits, count: top).map(alternative))
    }

    /// The `count` largest logits' ids, largest first, lowest id first among equals: one pass keeping a short
    /// sorted list (a vocabulary has ~262K entries; count is at most 20).
    static func topTokens(_ logits: UnsafeBufferPointer<Float>, count: Int) -> [Int32] {
        guard count > 0 else { return [] }
        var best: [Int] = []
        for i in logits.indices {
            if best.count == count, let last = best.last, logits[i] <= logits[last] { continue }
            let at = best.firstIndex { logits[i] > logits[$0] } ?? best.count
            best.insert(i, at: at)
            if best.count > count { best.removeLast() }
        }
        return best.map { Int32($0) }
    }

    /// Greedy choice; the lowest token id wins a tie, so the choice is deterministic.
    static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        var best = 0
        for i in logits.indices where logits[i] > logits[best] { best = i }
        return Int32(best)
    }
}

extension Model {
    /// The bytes of a token's text (special tokens rendered): a piece may hold part of a UTF-8 character,
    /// so text is assembled from bytes, never from per-token strings.
    func pieceBytes(_ token: Int32) -> [UInt8] {
        var buffer = [CChar](repeating: 0, count: 128)
        var n = llama_token_to_piece(vocab, token, &buffer, Int32(buffer.count), 0, true)
        if n < 0 {
            buffer = [CChar](repeating: 0, count: Int(-n))
            n = llama_token_to_piece(vocab, token, &buffer, Int32(buffer.count), 0, true)
        }
        return n > 0 ? buffer.prefix(Int(n)).map { UInt8(bitPattern: $0) } : []
    }
}
