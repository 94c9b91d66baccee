import CLlama

/// One llama_context and its KV-cache bookkeeping. Confined to one worker thread: created, used and freed
/// there, so it needs no locks.
///
/// KV layout: sequences `0..<cacheSlots` hold prefixes kept across requests (`PrefixCache`); the next
/// `parallelSequences` are working sequences. A candidate gets a copy of its prefix's KV
/// (`llama_memory_seq_cp`) and only its own tokens are decoded, all candidates of a wave in one llama_decode.
/// Every sequence has a KV stream of its own (non-unified cache), so a sequence's attention never sees
/// another's cells: results do not depend on what else shares the batch.
final class Session {
    struct Job {
        var plan: JobPlan
        var control: JobControl
    }

    let model: Model
    let window: Int
    // Internal, not private: Session+Generation.swift (another file) decodes with them too.
    let context: OpaquePointer
    let memory: llama_memory_t?
    private let batchCapacity: Int
    private let maxOutputRows: Int
    private let workingSequences: [Int32]
    /// Sequences judge generation leases (Session+Generation.swift), after the cache and working sequences.
    let generationSequences: [Int32]
    private var batch: llama_batch
    private var cache: PrefixCache
    let abortSlot = AbortSlot()
    let vocabularySize: Int
    /// llama.cpp applies the head itself (rank pooling): embeddings are switched off to read logits.
    private let pooled: Bool
    /// A head applied in Swift to per-token hidden states: embeddings stay on (pooling NONE), logits too.
    private let head: ScoreHead?
    /// Cache sequences an unfinished prefill is writing: nested jobs run between its chunks must not take them.
    private var reserved: Set<Int32> = []
    /// Called between the chunks of a long prefill so short jobs are not stuck behind it (set by the worker).
    var betweenChunks: (() -> Void)?
    /// Generation jobs in flight and the working sequences they lease (Session+Generation.swift).
    let generation = GenerationState()

    init(model: Model, configuration: EngineConfiguration) throws(ScoringError) {
        self.model = model
        window = configuration.window(for: model)
        let sequenceCount = configuration.cacheSlots + configuration.parallelSequences + configuration.generationSequences
        var params = llama_context_default_params()
        params.n_ctx = UInt32(window * sequenceCount)
        params.n_batch = UInt32(configuration.batchSize)
        // Encoders see a whole sequence at once: it must fit one micro-batch.
        params.n_ubatch = UInt32(model.isCausal ? configuration.microBatchSize : configuration.batchSize)
        params.n_seq_max = UInt32(sequenceCount)
        params.n_threads = Int32(configuration.threads)
        params.n_threads_batch = Int32(configuration.threads)
        params.flash_attn_type = configuration.flashAttention ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED
        params.kv_unified = false
        params.swa_full = false
        params.no_perf = true
        head = model.head
        pooled = model.classifierOutputs > 0 && head == nil
        params.embeddings = pooled || head != nil
        params.pooling_type = pooled ? LLAMA_POOLING_TYPE_RANK : LLAMA_POOLING_TYPE_NONE
        guard let context = llama_init_from_model(model.pointer, params) else {
            throw .engineFailure("llama.cpp could not create a context of \(params.n_ctx) tokens for \(sequenceCount) sequences")
        }
        self.context = context
        memory = llama_get_memory(context)
        batchCapacity = configuration.batchSize
        maxOutputRows = configuration.maxOutputRows
        batch = llama_batch_init(Int32(configuration.batchSize), 0, 1)
        cache = PrefixCache(sequences: (0..<Int32(configuration.cacheSlots)).map { $0 }, maxTokens: configuration.cacheTokens)
        workingSequences = (0..<Int32(configuration.parallelSequences)).map { Int32(configuration.cacheSlots) + $0 }
        generationSequences = (0..<Int32(configuration.generationSequences)).map {
            Int32(configuration.cacheSlots + configuration.parallelSequences) + $0
        }
        vocabularySize = model.vocabularySize
        llama_set_abort_callback(context, AbortSlot.callback, Unmanaged.passUnretained(abortSlot).toOpaque())
    }

    deinit {
        llama_batch_free(batch)
        llama_free(context)
    }

    /// Context keys (hashes of cached prefixes) this session can serve without recomputing.
    var cachedKeys: Set<String> { Set(cache.entries.map { ContextKey.of($0.tokens) }) }

    // MARK: running jobs

    /// Runs jobs together: each job's prefixes first (from the cache where possible), then every job's
    /// candidates packed into shared llama_decode calls.
    func execute(_ jobs: [Job]) -> [Result<JobOutcome, ScoringError>] {
        var failures: [Int: ScoringError] = [:]
        var reused = [Int](repeating: 0, count: jobs.count)
        var computed = [Int](repeating: 0, count: jobs.count)
        var items: [WorkItem] = []
        var protected: Set<Int32> = []
        var outputs: [[[[Float]]]] = jobs.map { $0.plan.groups.map { [[Float]](repeating: [], count: $0.suffixes.count) } }

        for (j, job) in jobs.enumerated() {
            do throws(ScoringError) {
                if job.control.isCancelled { throw job.control.error }
                for (g, group) in job.plan.groups.enumerated() {
                    var prefix: PrefixCache.Entry?
                    if !group.levels.isEmpty {
                        let entry = try ensurePrefix(group.levels, control: job.control, protecting: protected,
                                                     reused: &reused[j], computed: &computed[j])
                        protected.insert(entry.sequence)
                        prefix = entry
                    }
                    for (s, suffix) in group.suffixes.enumerated() {
                        items.append(WorkItem(job: j, group: g, suffix: s, tokens: suffix.tokens, output: suffix.output,
                                              scoredFrom: suffix.scoredFrom,
                                              prefixSequence: prefix?.sequence, start: group.prefixCount,
                                              nextTokenLogits: prefix?.nextTokenLogits))
                    }
                }
            } catch {
                failures[j] = error
            }
        }
        items.removeAll { failures[$0.job] != nil }

        for wave in packWaves(items) {
            let live = wave.filter { failures[$0.job] == nil && !jobs[$0.job].control.isCancelled }
            for item in wave where jobs[item.job].control.isCancelled { failures[item.job] = jobs[item.job].control.error }
            guard !live.isEmpty else { continue }
            // A wave whose requests have all timed out or left stops at the next graph node, so a 504
            // leaves at its deadline instead of after the wave.
            let outer = abortSlot.set(live.map { jobs[$0.job].control })
            defer { abortSlot.set(outer) }
            do throws(ScoringError) {
                let values = try decodeWave(live)
                for (item, value) in zip(live, values) {
                    outputs[item.job][item.group][item.suffix] = value
                    computed[item.job] += item.tokens.count
                }
            } catch {
                for item in live { failures[item.job] = error == .cancelled ? jobs[item.job].control.error : error }
            }
        }

        return jobs.indices.map { j in
            if let failure = failures[j] { return .failure(failure) }
            return .success(JobOutcome(groups: outputs[j].map { GroupOutcome(values: $0) }, reusedTokens: reused[j],
                                       computedTokens: computed[j]))
        }
    }

    /// Drops every cached prefix (tests use it to compare cold and warm runs).
    func clearCache() {
        cache.removeAll()
        if let memory { llama_memory_clear(memory, true) }
    }

    // MARK: prefixes

    /// Makes the KV cache hold `levels` (each extending the previous) in one cache sequence, reusing the
    /// longest cached prefix, and records each level so later requests can reuse it.
    func ensurePrefix(_ levels: [[Int32]], control: JobControl, protecting protected: Set<Int32>,
                              reused: inout Int, computed: inout Int) throws(ScoringError) -> PrefixCache.Entry {
        var target: [Int32] = []
        var current: PrefixCache.Entry?
        var holding = protected
        // Entries this call creates are not reuse: only what earlier requests left counts.
        var created: Set<Int32> = []
        for level in levels {
            target += level
            if let hit = cache.exact(target) {
                current = hit
                if !created.contains(hit.sequence) { reused = max(reused, target.count) }
                holding.insert(hit.sequence)
                continue
            }
            let base = cache.longestPrefix(of: target)
            if let base {
                if !created.contains(base.sequence) { reused = max(reused, base.tokens.count) }
                holding.insert(base.sequence)
            }
            guard let sequence = cache.acquire(protecting: holding.union(reserved)) else {
                throw .engineFailure("no free cache sequence: raise --cache-slots")
            }
            guard let memory else { throw .engineFailure("this model keeps no KV cache") }
            _ = llama_memory_seq_rm(memory, sequence, -1, -1)
            if let base { llama_memory_seq_cp(memory, base.sequence, sequence, -1, -1) }
            let start = base?.tokens.count ?? 0
            let fresh = Array(target[start...])
            let outer = abortSlot.set(control)
            let reservedBefore = reserved
            reserved.formUnion(holding.union([sequence]))
            defer {
                abortSlot.set(outer)
                reserved = reservedBefore
            }
            do throws(ScoringError) {
                let logits = try decodeSequence(sequence, fresh, startPosition: start, control: control)
                computed += fresh.count
                for evicted in cache.insert(tokens: target, sequence: sequence, nextTokenLogits: logits, protecting: holding.union(reserved)) {
                    _ = llama_memory_seq_rm(memory, evicted, -1, -1)
                }
            } catch {
                _ = llama_memory_seq_rm(memory, sequence, -1, -1)
                cache.remove(sequence: sequence)
                throw error == .cancelled ? control.error : error
            }
            current = cache.exact(target)
            holding.insert(sequence)
            created.insert(sequence)
        }
        guard let current else { throw .engineFailure("prefix bookkeeping lost its entry") }
        return current
    }

    /// Decodes one sequence's tokens in batch-sized chunks; returns the logits after the last token.
    func decodeSequence(_ sequence: Int32, _ tokens: [Int32], startPosition: Int,
                                control: JobControl) throws(ScoringError) -> [Float] {
        var last: [Float] = []
        var offset = 0
        if pooled { llama_set_embeddings(context, false) }
        defer { if pooled { llama_set_embeddings(context, true) } }
        while offset < tokens.count {
            let end = min(offset + batchCapacity, tokens.count)
            clearBatch()
            for i in offset..<end {
                add(tokens[i], position: startPosition + i, sequence: sequence, output: i == tokens.count - 1)
            }
            try decode()
            if end < tokens.count, let betweenChunks {
                // Nested jobs switch embeddings mode and the abort target themselves, and restore them.
                betweenChunks()
                if pooled { llama_set_embeddings(context, false) }
                if control.isCancelled { throw control.error }
            }
            if end == tokens.count {
                guard let row = llama_get_logits_ith(context, Int32(end - offset - 1)) else {
                    throw .engineFailure("no logits for the prefix's last token")
                }
                last = Array(UnsafeBufferPointer(start: row, count: vocabularySize))
            }
            offset = end
        }
        return last
    }

    // MARK: candidates

    struct WorkItem {
        var job: Int
        var group: Int
        var suffix: Int
        var tokens: [Int32]
        var output: OutputKind
        var scoredFrom: Int
        var prefixSequence: Int32?
        var start: Int
        var nextTokenLogits: [Float]?

        var isPooled: Bool { if case .pooled = output { return true } else { return false } }
        var outputRows: Int {
            switch output {
            case .tokenLogProbs: return max(0, tokens.count - max(scoredFrom, 1))
            case .verdict, .generate: return 1
            // Each head position also gets a logits row from llama.cpp (it computes both when embeddings are on).
            case .head(let positions): return positions.count
            // Pooled outputs are one small vector per sequence, not vocabulary-wide logits rows: the row budget
            // does not apply, and an encoder's sequence must never be split across calls.
            case .pooled: return 0
            }
        }
    }

    /// Groups candidates into llama_decode calls: at most one working sequence each, the batch's token
    /// capacity and the logits-row budget; pooled and logits candidates never share a call.
    ///
    /// An encoder's sequences go one per call. Its attention spans the whole micro-batch (other sequences are
    /// masked, but still computed), so packing them costs quadratic work and buys nothing; and llama.cpp
    /// 0.3.36 scores gemma-embedding sequences differently when several share a micro-batch (all but the
    /// last move by up to 0.1; llama-server's /rerank shows the same values), while BERT moves by ~3e-7.
    /// Alone, every sequence is bit-identical to scoring it by itself.
    private func packWaves(_ items: [WorkItem]) -> [[WorkItem]] {
        var waves: [[WorkItem]] = []
        var wave: [WorkItem] = []
        var tokens = 0, rows = 0
        for item in items.sorted(by: { !$0.isPooled && $1.isPooled }) {
            let alone = item.isPooled && !model.isCausal
            let fits = !alone && wave.count < workingSequences.count && tokens + item.tokens.count <= batchCapacity
                && rows + item.outputRows <= maxOutputRows && wave.first.map { $0.isPooled == item.isPooled } ?? true
            if !fits && !wave.isEmpty {
                waves.append(wave)
                wave = []; tokens = 0; rows = 0
            }
            wave.append(item)
            tokens += item.tokens.count
            rows += item.outputRows
        }
        if !wave.isEmpty { waves.append(wave) }
        return waves
    }

    /// Decodes a wave: copies each candidate's prefix KV into a working sequence, decodes all candidates
    /// (in several calls when one alone exceeds the batch), reads their outputs, frees the sequences.
    private func decodeWave(_ wave: [WorkItem]) throws(ScoringError) -> [[Float]] {
        let sequences = Array(workingSequences.prefix(wave.count))
        if let memory {
            for (item, sequence) in zip(wave, sequences) {
                _ = llama_memory_seq_rm(memory, sequence, -1, -1)
                if let prefix = item.prefixSequence { llama_memory_seq_cp(memory, prefix, sequence, -1, -1) }
            }
        }
        defer {
            if let memory { for sequence in sequences { _ = llama_memory_seq_rm(memory, sequence, -1, -1) } }
        }
        if wave[0].isPooled { llama_set_embeddings(context, true) } else if pooled { llama_set_embeddings(context, false) }
        defer { if pooled { llama_set_embeddings(context, true) } }

        var results = wave.map { item -> [Float] in
            if case .tokenLogProbs = item.output, item.scoredFrom == 0, let first = item.tokens.first, let row = item.nextTokenLogits {
                return [LogSoftmax.logProbability(of: first, in: row)]
            }
            return []
        }
        // Positions decoded so far per candidate; a candidate longer than the batch continues next call.
        var done = [Int](repeating: 0, count: wave.count)
        while zip(done, wave).contains(where: { $0 < $1.tokens.count }) {
            clearBatch()
            var reads: [(candidate: Int, batchIndex: Int32, position: Int)] = []
            var rows = 0
            for (k, item) in wave.enumerated() where done[k] < item.tokens.count {
                while done[k] < item.tokens.count && Int(batch.n_tokens) < batchCapacity && rows < maxOutputRows {
                    let i = done[k]
                    let isLast = i == item.tokens.count - 1
                    let wants: Bool
                    switch item.output {
                    case .tokenLogProbs: wants = !isLast && i + 1 >= item.scoredFrom
                    case .verdict, .generate: wants = isLast
                    case .pooled: wants = true
                    case .head(let positions): wants = positions.contains(i)
                    }
                    if wants { reads.append((k, batch.n_tokens, i)); if !item.isPooled { rows += 1 } }
                    add(item.tokens[i], position: item.start + i, sequence: sequences[k], output: wants)
                    done[k] += 1
                }
            }
            try decode()
            for read in reads {
                let item = wave[read.candidate]
                switch item.output {
                case .tokenLogProbs:
                    guard let row = llama_get_logits_ith(context, read.batchIndex) else { throw .engineFailure("missing logits row") }
                    let next = item.tokens[read.position + 1]
                    results[read.candidate].append(LogSoftmax.logProbability(of: next, in: UnsafeBufferPointer(start: row, count: vocabularySize)))
                case .verdict(let labels):
                    guard let row = llama_get_logits_ith(context, read.batchIndex) else { throw .engineFailure("missing logits row") }
                    results[read.candidate] = LogSoftmax.logProbabilities(of: labels, in: UnsafeBufferPointer(start: row, count: vocabularySize))
                case .head:
                    guard let head, let hidden = llama_get_embeddings_ith(context, read.batchIndex) else {
                        throw .engineFailure("no hidden state for a classifier-head position")
                    }
                    results[read.candidate] += head.apply(UnsafeBufferPointer(start: hidden, count: head.hiddenSize))
                case .pooled, .generate:
                    break
                }
            }
            for (k, item) in wave.enumerated() where item.isPooled && done[k] == item.tokens.count && results[k].isEmpty {
                guard let scores = llama_get_embeddings_seq(context, sequences[k]) else {
                    throw .engineFailure("no classifier output for the sequence")
                }
                results[k] = Array(UnsafeBufferPointer(start: scores, count: max(1, model.classifierOutputs)))
            }
        }
        return results
    }

    // MARK: batch plumbing

    func clearBatch() { batch.n_tokens = 0 }

    func add(_ token: Int32, position: Int, sequence: Int32, output: Bool) {
        let i = Int(batch.n_tokens)
        batch.token[i] = token
        batch.pos[i] = Int32(position)
        batch.n_seq_id[i] = 1
        batch.seq_id[i]![0] = sequence
        batch.logits[i] = output ? 1 : 0
        batch.n_tokens += 1
    }

    func decode() throws(ScoringError) {
        let status = llama_decode(context, batch)
        switch status {
        case 0: return
        case 1: throw .engineFailure("the KV cache has no room for this batch")
        case 2: throw .cancelled
        default: throw .engineFailure("llama_decode failed with status \(status)")
        }
    }
}
