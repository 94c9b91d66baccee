/// Every `serve` setting. Help texts, environment names and config-file keys all derive from this table.
enum ServeSettings {
    static let config = ConfigSetting(
        flag: "config", summary: "Read settings from FILE: JSON object or 'key = value' lines; flags and LONGRM_* variables win over it.",
        defaultText: nil, valueName: "file")
    static let checkConfig = ConfigSetting(
        flag: "check-config", summary: "Validate the settings, print the effective configuration and exit (no model load).",
        defaultText: nil, fromEnvironment: false)
    static let host = ConfigSetting(flag: "host", summary: "Address to listen on.", defaultText: "127.0.0.1")
    static let port = ConfigSetting(flag: "port", summary: "Port to listen on (0 = any free port, printed at start).", defaultText: "8080")
    static let apiKey = ConfigSetting(
        flag: "api-key", summary: "Require 'Authorization: Bearer <key>' (except /health, /ready, /metrics).",
        defaultText: "none", secret: true)
    static let defaultMethod = ConfigSetting(
        flag: "default-method", summary: "Method when a request names none: likelihood, classifier or judge.",
        defaultText: "classifier if the model has a head, else likelihood")
    static let timeoutMs = ConfigSetting(flag: "timeout-ms", summary: "Default per-request deadline in milliseconds.", defaultText: "600000")
    static let maxQueueRequests = ConfigSetting(
        flag: "max-queue-requests", summary: "Queued requests beyond which new ones get 429.", defaultText: "256")
    static let maxQueueTokens = ConfigSetting(
        flag: "max-queue-tokens", summary: "Queued tokens beyond which new requests get 429.", defaultText: "1048576")
    static let maxConnections = ConfigSetting(flag: "max-connections", summary: "Open connections served at once.", defaultText: "512")
    static let maxBodyBytes = ConfigSetting(flag: "max-body-bytes", summary: "Largest request body accepted, in bytes.", defaultText: "67108864")
    static let drainTimeoutMs = ConfigSetting(
        flag: "drain-timeout-ms", summary: "On SIGTERM, how long requests in flight may take (a second SIGTERM or SIGHUP stops at once).",
        defaultText: "30000")
    static let logFormat = ConfigSetting(flag: "log-format", summary: "Log line format on stderr: logfmt or json.", defaultText: "logfmt")
    static let logLevel = ConfigSetting(
        flag: "log-level", summary: "Least severe level logged: trace, debug, info, notice, warning, error or critical (access lines are info).",
        defaultText: "info")

    static let model = ConfigSetting(flag: "model", summary: "Path of the GGUF model.",
                                     defaultText: "$LONGRM_DEFAULT_MODEL or ~/.cache/longrm/models/gemma-3-270m-q4_k_m.gguf",
                                     valueName: "path")
    static let contextSize = ConfigSetting(
        flag: "ctx-size", summary: "Tokens one sequence may hold (context + prompt + response); 0 = the model's trained context.",
        defaultText: "0")
    static let workers = ConfigSetting(flag: "workers", summary: "Engine worker threads, each with its own llama.cpp context.", defaultText: "1")
    static let threads = ConfigSetting(flag: "threads", summary: "CPU threads per worker.", defaultText: "2")
    static let parallel = ConfigSetting(flag: "parallel", summary: "Candidate sequences decoded together in one llama_decode.", defaultText: "8")
    static let cacheSlots = ConfigSetting(flag: "cache-slots", summary: "KV sequences per worker that keep prompts across requests.", defaultText: "4")
    static let cacheTokens = ConfigSetting(
        flag: "cache-tokens", summary: "Most prompt tokens kept in the cross-request cache per worker.", defaultText: "262144")
    static let batchSize = ConfigSetting(flag: "batch-size", summary: "Tokens per llama_decode call.", defaultText: "2048")
    static let microBatchSize = ConfigSetting(flag: "ubatch-size", summary: "Physical micro-batch size.", defaultText: "512")
    static let flashAttention = ConfigSetting(
        flag: "flash-attn", summary: "Use flash attention (faster on long contexts; rewards then depend slightly on batch shape).",
        defaultText: "off")
    static let gpuLayers = ConfigSetting(
        flag: "gpu-layers", summary: "Model layers to offload to a GPU (-1 = all); needs a GPU build of llama.cpp (docs/OPERATIONS.md).",
        defaultText: "0")
    static let repack = ConfigSetting(
        flag: "repack", summary: "Use llama.cpp's repacked weight layouts: faster prompt processing, but rewards then depend slightly on batch shape.",
        defaultText: "off")
    static let rewardLabel = ConfigSetting(
        flag: "reward-label", summary: "Classifier label reported as the reward (a label name or index); the others are in reward_vectors.",
        defaultText: "the first label")
    static let noPrefixSharing = ConfigSetting(
        flag: "no-prefix-sharing", summary: "Decode every candidate with its own copy of the prompt (slow reference for benchmarks).",
        defaultText: "off")

    static let judgeTemplate = ConfigSetting(
        flag: "judge-template", summary: "A judge template file (JSON: name, kind, system, user with placeholders, answer_prefix, verdict_pattern; docs/JUDGE.md).",
        defaultText: "none (built-in pair, rank, critique, plain)", valueName: "file")
    static let judgeMaxNewTokens = ConfigSetting(
        flag: "judge-max-new-tokens", summary: "Most tokens a judge request may generate (max_new_tokens above it is a 400).", defaultText: "2048")
    static let judgeSequences = ConfigSetting(
        flag: "judge-sequences", summary: "KV sequences per worker for judge generation, apart from --parallel (each costs a window of KV memory; 0 disables generation).",
        defaultText: "4")
    static let judgeNewTokens = ConfigSetting(
        flag: "judge-new-tokens", summary: "Tokens a judge generates when a request gives no max_new_tokens.", defaultText: "512")

    static let all: [ConfigSetting] = [
        config, checkConfig, host, port, apiKey, defaultMethod, timeoutMs, maxQueueRequests, maxQueueTokens, maxConnections,
        maxBodyBytes, drainTimeoutMs, logFormat, logLevel, model, contextSize, workers, threads, parallel, cacheSlots,
        cacheTokens, batchSize, microBatchSize, gpuLayers, flashAttention, repack, noPrefixSharing, rewardLabel,
        judgeTemplate, judgeMaxNewTokens, judgeNewTokens, judgeSequences,
    ]

    /// Keys a config file may set: everything that has an environment variable, except `config` itself.
    static var fileKeys: Set<String> { Set(all.filter { $0.fromEnvironment && $0.flag != config.flag }.map(\.flag)) }
}
