/// Engine settings. Defaults suit the 2-core machines this project is built on.
public struct EngineConfiguration: Sendable, Equatable {
    /// Tokens one sequence may hold (context + prompt + response). 0 = the model's trained context.
    public var contextSize: Int
    /// Worker threads, each with its own llama_context.
    public var workers: Int
    /// Threads per worker for llama_decode.
    public var threads: Int
    /// No longer used by the engine: candidates are decoded one per llama_decode call (rewards must not depend
    /// on what shares a call; docs/ARCHITECTURE.md). Kept so existing configurations still parse.
    public var parallelSequences: Int
    /// KV streams per worker, each holding one cached context of up to `window` tokens (derived from `kvBudget`
    /// when that is set).
    public var cacheSlots: Int
    /// Memory for the KV cache of all workers, in tokens or bytes; sets `cacheSlots` at load time.
    public var kvBudget: KVBudget?
    /// Most prefix tokens kept across requests per worker.
    public var cacheTokens: Int
    /// Logical batch (tokens per llama_decode) and physical micro-batch.
    public var batchSize: Int
    public var microBatchSize: Int
    /// Flash attention changes the reduction order with the batch shape: off keeps rewards bit-identical
    /// whatever the batch (docs/ARCHITECTURE.md, "Numerics").
    public var flashAttention: Bool
    /// Repacked weight layouts (llama.cpp "extra buffer types"). Off by default: the repacked kernels handle
    /// rows in groups of four and the rest one by one, so a token's logits depend on its place in the batch.
    public var repackWeights: Bool
    /// Most logits rows one llama_decode may return (each row is n_vocab floats: 1 MiB for Gemma 3).
    public var maxOutputRows: Int
    /// Decode the shared prefix once and copy its KV to every candidate (on), or decode every candidate with
    /// its own copy of the prefix (off: the slow reference, for benchmarks and the numerics test).
    public var sharePrefix: Bool = true
    /// Layers offloaded to a GPU backend (-1 = all). 0 on CPU-only builds.
    public var gpuLayers: Int = 0
    /// KV sequences per worker for judge generation (candidates stay resident across decode steps). Apart
    /// from the scoring sequences, so generation never changes how scoring candidates are packed (which
    /// moves their rewards). Each costs a window of KV memory; 0 disables generation.
    public var generationSequences: Int = 4
    /// Which classifier label is the scalar reward: a label name or an index; nil = the first label.
    public var rewardLabel: String? = nil
    /// Element type of the KV cache; anything but f16 needs flash attention (`KVCacheType`).
    public var kvType: KVCacheType = .f16

    public init(
        contextSize: Int = 0, workers: Int = 1, threads: Int = 2, parallelSequences: Int = 8, cacheSlots: Int = 4,
        cacheTokens: Int = 262_144, batchSize: Int = 2048, microBatchSize: Int = 512, flashAttention: Bool = false,
        repackWeights: Bool = false, maxOutputRows: Int = 256
    ) {
        self.contextSize = contextSize; self.workers = workers; self.threads = threads
        self.parallelSequences = parallelSequences; self.cacheSlots = cacheSlots; self.cacheTokens = cacheTokens
        self.batchSize = batchSize; self.microBatchSize = microBatchSize; self.flashAttention = flashAttention
        self.repackWeights = repackWeights; self.maxOutputRows = maxOutputRows
    }

    /// Tokens one sequence may hold with this model. An encoder's sequence is decoded in one call, so it can
    /// be no longer than the batch.
    func window(for model: Model) -> Int {
        let requested = contextSize > 0 ? contextSize : max(model.trainedContext, 512)
        return model.isCausal ? requested : min(requested, batchSize)
    }

    /// The index of the scalar reward among the model's classifier labels.
    func rewardLabelIndex(labels: [String]) throws(ScoringError) -> Int {
        guard let rewardLabel else { return 0 }
        if let index = labels.firstIndex(of: rewardLabel) { return index }
        if let index = Int(rewardLabel), labels.indices.contains(index) { return index }
        let known = labels.isEmpty ? "the model has no classifier labels" : "labels: \(labels.joined(separator: ", "))"
        throw .invalidConfiguration("reward label \"\(rewardLabel)\" is neither a label nor a label index (\(known))")
    }

    /// Judge-generation streams this model really gets: none for a sequence classifier (it offers no judge), whose
    /// memory would otherwise be full windows spent on nothing (16 GiB at 32K for an 8B geometry with the default 4).
    func generationStreams(for model: Model) -> Int {
        model.isCausal && model.head == nil ? generationSequences : 0
    }

    func validated() throws(ScoringError) -> EngineConfiguration {
        func check(_ ok: Bool, _ rule: String) throws(ScoringError) {
            if !ok { throw .invalidConfiguration(rule) }
        }
        try check(contextSize >= 0, "contextSize must be ≥ 0")
        try check(workers >= 1 && workers <= 64, "workers must be in 1…64")
        try check(threads >= 1 && threads <= 256, "threads must be in 1…256")
        try check(parallelSequences >= 1 && parallelSequences <= 64, "parallelSequences must be in 1…64")
        try check(cacheSlots >= 2 && cacheSlots <= 64, "cacheSlots must be in 2…64")
        try check((0...64).contains(generationSequences), "generationSequences must be in 0…64")
        try check(cacheSlots + generationSequences <= 256, "cacheSlots + generationSequences must be ≤ 256")
        try check(cacheTokens >= 0, "cacheTokens must be ≥ 0")
        try check(
            batchSize >= 32 && microBatchSize >= 32 && microBatchSize <= batchSize,
            "need 32 ≤ microBatchSize ≤ batchSize")
        try check(maxOutputRows >= 1, "maxOutputRows must be ≥ 1")
        try check(
            kvType.isAllowed(flashAttention: flashAttention),
            "kvType \(kvType.rawValue) needs flashAttention (llama.cpp quantizes V only with flash attention)")
        return self
    }
}
