import ArgumentParser
import Scoring

/// Engine flags shared by `serve` and `score`.
struct EngineOptions: ParsableArguments {
    @Option(help: "Path of the GGUF model.")
    var model: String = DefaultPaths.model

    @Option(name: .customLong("ctx-size"), help: "Tokens one sequence may hold (context + prompt + response); 0 = the model's trained context.")
    var contextSize: Int = 0

    @Option(help: "Engine worker threads, each with its own llama.cpp context.")
    var workers: Int = 1

    @Option(help: "CPU threads per worker.")
    var threads: Int = 2

    @Option(help: "Candidate sequences decoded together in one llama_decode.")
    var parallel: Int = 8

    @Option(name: .customLong("cache-slots"), help: "KV sequences per worker that keep prompts across requests.")
    var cacheSlots: Int = 4

    @Option(name: .customLong("cache-tokens"), help: "Most prompt tokens kept in the cross-request cache per worker.")
    var cacheTokens: Int = 262_144

    @Option(name: .customLong("batch-size"), help: "Tokens per llama_decode call.")
    var batchSize: Int = 2048

    @Option(name: .customLong("ubatch-size"), help: "Physical micro-batch size.")
    var microBatchSize: Int = 512

    @Flag(name: .customLong("flash-attn"), help: "Use flash attention (faster on long contexts; rewards then depend slightly on batch shape).")
    var flashAttention = false

    @Flag(name: .customLong("no-repack"), help: "Disable repacked weight layouts.")
    var noRepack = false

    @Flag(name: .customLong("no-prefix-sharing"), help: "Decode every candidate with its own copy of the prompt (slow reference for benchmarks).")
    var noPrefixSharing = false

    var configuration: EngineConfiguration {
        var c = EngineConfiguration(contextSize: contextSize, workers: workers, threads: threads, parallelSequences: parallel,
                                    cacheSlots: cacheSlots, cacheTokens: cacheTokens, batchSize: batchSize,
                                    microBatchSize: microBatchSize, flashAttention: flashAttention, repackWeights: !noRepack)
        c.sharePrefix = !noPrefixSharing
        return c
    }
}

enum DefaultPaths {
    static var model: String {
        let env = ProcessEnvironment.values
        if let path = env["LONGRM_DEFAULT_MODEL"] { return path }
        let cache = env["LONGRM_CACHE"] ?? (env["HOME"] ?? "/root") + "/.cache/longrm"
        return cache + "/models/gemma-3-270m-q4_k_m.gguf"
    }
}
