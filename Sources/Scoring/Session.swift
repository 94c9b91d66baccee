import CLlama

/// One llama_context and its KV-cache bookkeeping. Confined to one worker thread: created, used and freed
/// there, so it needs no locks.
///
/// KV layout: `cacheSlots` sequences, each a KV stream of its own (llama.cpp's non-unified cache) holding one
/// cached prefix (`PrefixCache`). A candidate is decoded after its prefix inside the prefix's own stream and
/// removed after use, or, when that is not safe, in a stream borrowed from the cache holding a copy of the
/// prefix. Candidates are decoded one per llama_decode call, so a candidate's computation is a function of
/// its prefix and its own tokens only: results do not depend on what else is in flight.
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
    private let microBatchSize: Int
    /// Sequences judge generation leases (Session+Generation.swift), after the cache sequences.
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
    /// The prefix a prefill is decoding now (the outermost, while nested jobs run between its chunks).
    private(set) var prefilling: [Int32]?
    /// Generation jobs in flight and the generation sequences they lease (Session+Generation.swift).
    let generation = GenerationState()
    /// Pinned contexts: their entries are kept however long ago they were used.
    private let pins: PinBoard?

    init(model: Model, configuration: EngineConfiguration, pins: PinBoard? = nil) throws(ScoringError) {
        self.model = model
        self.pins = pins
        window = configuration.window(for: model)
        let sequenceCount = configuration.cacheSlots + configuration.generationStreams(for: model)
        var params = llama_context_default_params()
        params.n_ctx = UInt32(window * sequenceCount)
        params.n_batch = UInt32(configuration.batchSize)
        // Encoders see a whole sequence at once: it must fit one micro-batch.
        params.n_ubatch = UInt32(model.isCausal ? configuration.microBatchSize : configuration.batchSize)
        params.n_seq_max = UInt32(sequenceCount)
        params.n_threads = Int32(configuration.threads)
        params.n_threads_batch = Int32(configuration.threads)
        params.flash_attn_type =
            configuration.flashAttention ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED
        params.type_k = configuration.kvType.ggmlType
        params.type_v = configuration.kvType.ggmlType
        params.kv_unified = false
        params.swa_full = false
        // A GPU build otherwise sends large batches of host-weight layers to the device, whose kernels round
        // differently by batch size (measured on an H200 at --gpu-layers 0: shared-prefix and separate decoding
        // differed by up to 0.084). With no layer offloaded, the CPU computes everything, as on a CPU build.
        params.op_offload = configuration.gpuLayers != 0
        params.no_perf = true
        head = model.head
        pooled = model.classifierOutputs > 0 && head == nil
        params.embeddings = pooled || head != nil
        params.pooling_type = pooled ? LLAMA_POOLING_TYPE_RANK : LLAMA_POOLING_TYPE_NONE
        guard let context = LlamaBackend.creatingContext({ llama_init_from_model(model.pointer, params) }) else {
            throw .engineFailure(
                "llama.cpp could not create a context of \(params.n_ctx) tokens for \(sequenceCount) sequences")
        }
        self.context = context
        memory = llama_get_memory(context)
        batchCapacity = configuration.batchSize
        maxOutputRows = configuration.maxOutputRows
        batch = llama_batch_init(Int32(configuration.batchSize), 0, 1)
        cache = PrefixCache(
            sequences: (0..<Int32(configuration.cacheSlots)).map { $0 }, maxTokens: configuration.cacheTokens)
        microBatchSize = Int(params.n_ubatch)
        generationSequences = (0..<Int32(configuration.generationStreams(for: model))).map {
            Int32(configuration.cacheSlots) + $0
        }
        vocabularySize = model.vocabularySize
        llama_set_abort_callback(context, AbortSlot.callback, Unmanaged.passUnretained(abortSlot).toOpaque())
    }

    deinit {
        llama_batch_free(batch)
        llama_free(context)
    }

    /// Context keys (hashes of cached prefixes) this session can serve without recomputing.
    var cachedKeys: Set<String> { Set(cache.entries.map(\.key)) }

    // MARK: running jobs

    /// Runs jobs one after another: each group's prefix first (from the cache where possible), then its
    /// candidates, each in a llama_decode call of its own (see `decodeCandidate` for why).
    func execute(_ jobs: [Job]) -> [Result<JobOutcome, ScoringError>] {
        jobs.map { job in
            do throws(ScoringError) { return .success(try run(job)) } catch { return .failure(error) }
        }
    }

    private func run(_ job: Job) throws(ScoringError) -> JobOutcome {
        var reused = 0, computed = 0
        var groups: [GroupOutcome] = []
        for group in job.plan.groups {
            if job.control.isCancelled { throw job.control.error }
            var prefix: PrefixCache.Entry?
            if !group.levels.isEmpty {
                prefix = try ensurePrefix(group.levels, control: job.control, reused: &reused, computed: &computed)
            }
            var values: [[Float]] = []
            for suffix in group.suffixes {
                if job.control.isCancelled { throw job.control.error }
                let item = WorkItem(
                    tokens: suffix.tokens, output: suffix.output, scoredFrom: suffix.scoredFrom,
                    prefixSequence: prefix?.sequence, start: group.prefixCount,
                    nextTokenLogits: prefix?.nextTokenLogits)
                let outer = abortSlot.set(job.control)
                defer { abortSlot.set(outer) }
                do throws(ScoringError) {
                    values.append(try decodeCandidate(item))
                } catch {
                    throw error == .cancelled ? job.control.error : error
                }
                computed += suffix.tokens.count
            }
            groups.append(GroupOutcome(values: values))
        }
        return JobOutcome(groups: groups, reusedTokens: reused, computedTokens: computed)
    }

    // MARK: prefixes

    /// Makes the KV cache hold `levels` (each extending the previous) in one cache sequence, starting from the
    /// cached entry that saves the most decoding (`PrefixCache.bestReuse`: whole, or cut where the result cannot
    /// tell), and records each level so later requests can reuse it.
    func ensurePrefix(
        _ levels: [[Int32]], control: JobControl,
        reused: inout Int, computed: inout Int
    ) throws(ScoringError) -> PrefixCache.Entry {
        if let pins { cache.pinnedKeys = pins.keys(at: .now) }
        var target: [Int32] = []
        var levelStarts: [Int] = []
        var current: PrefixCache.Entry?
        var holding: Set<Int32> = []
        // Entries this call creates are not reuse: only what earlier requests left counts.
        var created: Set<Int32> = []
        for level in levels where !level.isEmpty {
            if !target.isEmpty { levelStarts.append(target.count) }
            target += level
            if let hit = cache.exact(target, levelStarts: levelStarts) {
                current = hit
                if !created.contains(hit.sequence) { reused = max(reused, target.count) }
                holding.insert(hit.sequence)
                continue
            }
            let base = cache.bestReuse(for: target, levelStarts: levelStarts, grid: microBatchSize) {
                lowestRestart($0.sequence)
            }
            if let base {
                if !created.contains(base.sequence) { reused = max(reused, base.keep) }
                holding.insert(base.sequence)
            }
            guard let memory else { throw .engineFailure("this model keeps no KV cache") }
            let sequence: Int32
            if let base, base.isPartial, base.isWhole, !reserved.contains(base.sequence) {
                // What an abandoned prefill left: continue it in place (it is no level anyone else reuses).
                sequence = base.sequence
                cache.remove(sequence: sequence)
            } else {
                guard let free = cache.acquire(protecting: holding.union(reserved)) else {
                    throw .engineFailure("no free cache sequence: raise --cache-slots")
                }
                sequence = free
                _ = llama_memory_seq_rm(memory, sequence, -1, -1)
                if let base {
                    // Streams copy whole (llama.cpp's non-unified cache); the copy is then cut to what is reused.
                    llama_memory_seq_cp(memory, base.sequence, sequence, -1, -1)
                    if !base.isWhole { _ = llama_memory_seq_rm(memory, sequence, Int32(base.keep), -1) }
                }
            }
            let start = base?.keep ?? 0
            let fresh = Array(target[start...])
            let outer = abortSlot.set(control)
            let reservedBefore = reserved
            reserved.formUnion(holding.union([sequence]))
            defer {
                abortSlot.set(outer)
                reserved = reservedBefore
            }
            let outerPrefill = prefilling
            prefilling = target
            defer { prefilling = outerPrefill }
            do throws(ScoringError) {
                let logits = try decodeSequence(
                    sequence, fresh, startPosition: start, splittingAt: levelStarts, control: control)
                computed += fresh.count
                for evicted in cache.insert(
                    tokens: target, levelStarts: levelStarts, sequence: sequence, nextTokenLogits: logits,
                    protecting: holding.union(reserved))
                {
                    _ = llama_memory_seq_rm(memory, evicted, -1, -1)
                }
            } catch {
                cache.remove(sequence: sequence)
                keepAbandonedPrefill(sequence, target: target, levelStarts: levelStarts, from: start, after: error)
                throw error == .cancelled ? control.error : error
            }
            current = cache.exact(target, levelStarts: levelStarts)
            holding.insert(sequence)
            created.insert(sequence)
        }
        guard let current else { throw .engineFailure("prefix bookkeeping lost its entry") }
        return current
    }

    /// Whether a queued job should not run between the chunks of the prefill of `inFlight`: most of its own
    /// prefix is what that prefill is computing, so once it is cached the job reuses it instead of computing
    /// it a second time (the queries of one `/get_reward` call sharing a document, issue 18). A job that
    /// shares only a little (a system prompt) runs at once.
    func shouldWait(for inFlight: [Int32]?, _ plan: JobPlan) -> Bool {
        guard let inFlight, let prefix = plan.groups.first?.prefix else { return false }
        return Self.waitsForPrefill(prefix, inFlight: inFlight, grid: microBatchSize)
    }

    /// At least one micro-batch, and at least half of the job's prefix, is shared with the prefill in flight.
    static func waitsForPrefill(_ prefix: [Int32], inFlight: [Int32], grid: Int) -> Bool {
        var shared = 0
        let limit = min(inFlight.count, prefix.count)
        while shared < limit && inFlight[shared] == prefix[shared] { shared += 1 }
        return shared >= grid && 2 * shared >= prefix.count
    }

    /// The first position a cached sequence can be cut at: a sliding-window cache keeps only the cells near
    /// the sequence's end, and a token decoded at position p attends to the `slidingWindow` positions before it.
    private func lowestRestart(_ sequence: Int32) -> Int {
        guard model.slidingWindow > 0, let memory else { return 0 }
        let lowest = Int(llama_memory_seq_pos_min(memory, sequence))
        return lowest <= 0 ? 0 : lowest + model.slidingWindow
    }

    /// When a prefill stops because its request timed out or its client left, keeps the tokens decoded so far
    /// (whole micro-batches: llama.cpp removes only the one it aborted) as a partial cache entry, within the
    /// cache's token budget, so a retry continues from there instead of starting over: a context that takes
    /// longer than the client's timeout is then answered after a few retries (issue 13). Other failures
    /// discard the sequence.
    private func keepAbandonedPrefill(
        _ sequence: Int32, target: [Int32], levelStarts: [Int], from start: Int, after error: ScoringError
    ) {
        guard let memory else { return }
        let kept = min(Int(llama_memory_seq_pos_max(memory, sequence)) + 1, target.count)
        guard error == .cancelled || error == .timedOut, kept > start else {
            _ = llama_memory_seq_rm(memory, sequence, -1, -1)
            return
        }
        for evicted in cache.insert(
            tokens: Array(target[..<kept]), levelStarts: levelStarts.filter { $0 < kept }, sequence: sequence,
            nextTokenLogits: [], isPartial: true, protecting: reserved)
        {
            _ = llama_memory_seq_rm(memory, evicted, -1, -1)
        }
        if cache.entries.allSatisfy({ $0.sequence != sequence }) { _ = llama_memory_seq_rm(memory, sequence, -1, -1) }
    }

    /// Decodes one sequence's tokens and returns the logits after the last token. Each llama_decode call is
    /// one micro-batch ending at the next multiple of the micro-batch size or at one of `splittingAt` (absolute
    /// positions): a token's micro-batch is then the same wherever the decode started, which is what lets
    /// `PrefixCache` reuse a cached prefix up to any such point without changing a result.
    func decodeSequence(
        _ sequence: Int32, _ tokens: [Int32], startPosition: Int, splittingAt splits: [Int] = [],
        control: JobControl
    ) throws(ScoringError) -> [Float] {
        var last: [Float] = []
        var offset = 0
        if pooled { llama_set_embeddings(context, false) }
        defer { if pooled { llama_set_embeddings(context, true) } }
        while offset < tokens.count {
            let position = startPosition + offset
            let gridLine = (position / microBatchSize + 1) * microBatchSize
            let stop = splits.filter { $0 > position }.min().map { min($0, gridLine) } ?? gridLine
            let end = min(stop - startPosition, tokens.count)
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
            // Pooled outputs are one small vector per sequence, not vocabulary-wide logits rows.
            case .pooled: return 0
            }
        }
    }

    /// Decodes one candidate in llama_decode calls of its own and reads its outputs.
    ///
    /// One candidate per call is what keeps a reward independent of what else is in flight. With several
    /// sequences in a call, llama.cpp's non-unified KV splits the batch with `split_equal`: every micro-batch
    /// takes the same number of tokens from each sequence, so where a candidate's tail lands (and in a
    /// micro-batch of how many rows) depends on the other candidates' lengths. The CPU matmul picks its kernel
    /// by that row count (the tiled K-quant kernel from 8 rows, `vec_dot` below; llamafile's sgemm from 2
    /// rows), and the kernels round differently: logits moved by up to 0.86 (issue 13,
    /// docs/ARCHITECTURE.md "KV layout and numerics"). Alone, the shape is a function of the candidate.
    ///
    /// Where: inside its prefix's own stream (`decodeInPlace`) when that is safe, else in a scratch stream
    /// holding a copy of the prefix. Encoders have no KV cache: any sequence id serves.
    private func decodeCandidate(_ item: WorkItem) throws(ScoringError) -> [Float] {
        if item.isPooled { llama_set_embeddings(context, true) } else if pooled { llama_set_embeddings(context, false) }
        defer { if pooled { llama_set_embeddings(context, true) } }
        guard let memory else { return try decodeTokens(item, sequence: 0) }
        if let prefix = item.prefixSequence, canDecodeInPlace(item) {
            // The candidate's cells sit after the prefix's and are removed after use: the stream is as it was.
            defer { _ = llama_memory_seq_rm(memory, prefix, Int32(item.start), -1) }
            return try decodeTokens(item, sequence: prefix)
        }
        var holding = reserved
        if let prefix = item.prefixSequence { holding.insert(prefix) }
        guard let scratch = cache.acquire(protecting: holding) else {
            throw .engineFailure("no free cache sequence for a candidate: raise --cache-slots")
        }
        _ = llama_memory_seq_rm(memory, scratch, -1, -1)
        defer { _ = llama_memory_seq_rm(memory, scratch, -1, -1) }
        if let prefix = item.prefixSequence { llama_memory_seq_cp(memory, prefix, scratch, -1, -1) }
        return try decodeTokens(item, sequence: scratch)
    }

    /// Whether a candidate may be decoded inside its prefix's own stream and removed afterwards, leaving the
    /// prefix's cells exactly usable by the next candidate. Always, for a model without sliding-window
    /// layers. With them, llama.cpp stores a new token in a cell the window has left behind: a candidate in
    /// one micro-batch only reuses cells already outside the window of the prefix's end (so nothing a later
    /// continuation needs), but a second micro-batch would reuse cells still inside it.
    private func canDecodeInPlace(_ item: WorkItem) -> Bool {
        if model.slidingWindow == 0 { return true }
        return item.tokens.count <= microBatchSize && item.outputRows <= maxOutputRows
    }

    /// Decodes a candidate's tokens into `sequence` after position `item.start` (in several calls when it
    /// exceeds the batch or the logits-row budget) and returns its outputs.
    private func decodeTokens(_ item: WorkItem, sequence: Int32) throws(ScoringError) -> [Float] {
        var result: [Float] = []
        if case .tokenLogProbs = item.output, item.scoredFrom == 0, let first = item.tokens.first,
            let row = item.nextTokenLogits
        {
            result.append(LogSoftmax.logProbability(of: first, in: row))
        }
        var done = 0
        while done < item.tokens.count {
            clearBatch()
            var reads: [(batchIndex: Int32, position: Int)] = []
            while done < item.tokens.count && Int(batch.n_tokens) < batchCapacity && reads.count < maxOutputRows {
                let i = done
                let isLast = i == item.tokens.count - 1
                let wants: Bool
                switch item.output {
                case .tokenLogProbs: wants = !isLast && i + 1 >= item.scoredFrom
                case .verdict, .generate: wants = isLast
                case .pooled: wants = true
                case .head(let positions): wants = positions.contains(i)
                }
                if wants && !item.isPooled { reads.append((batch.n_tokens, i)) }
                add(item.tokens[i], position: item.start + i, sequence: sequence, output: wants)
                done += 1
            }
            try decode()
            for read in reads {
                switch item.output {
                case .tokenLogProbs:
                    result.append(
                        LogSoftmax.logProbability(
                            of: item.tokens[read.position + 1], in: try logitsRow(read.batchIndex)))
                case .verdict(let labels):
                    result = LogSoftmax.logProbabilities(of: labels, in: try logitsRow(read.batchIndex))
                case .head:
                    guard let head, let hidden = llama_get_embeddings_ith(context, read.batchIndex) else {
                        throw .engineFailure("no hidden state for a classifier-head position")
                    }
                    result += head.apply(UnsafeBufferPointer(start: hidden, count: head.hiddenSize))
                case .pooled, .generate:
                    break
                }
            }
        }
        if item.isPooled {
            guard let scores = llama_get_embeddings_seq(context, sequence) else {
                throw .engineFailure("no classifier output for the sequence")
            }
            result = Array(UnsafeBufferPointer(start: scores, count: max(1, model.classifierOutputs)))
        }
        return result
    }

    // MARK: batch plumbing

    private func logitsRow(_ batchIndex: Int32) throws(ScoringError) -> UnsafeBufferPointer<Float> {
        guard let row = llama_get_logits_ith(context, batchIndex) else { throw .engineFailure("missing logits row") }
        return UnsafeBufferPointer(start: row, count: vocabularySize)
    }

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
