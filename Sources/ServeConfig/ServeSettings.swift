import Scoring
import Server

/// Every `serve` setting. Help texts, environment names and config-file keys all derive from this table; the
/// defaults it shows are read from the configuration structs, which alone define them.
public enum ServeSettings {
    private static let app = AppConfiguration()
    private static let queue = EnginePool.QueueLimits()
    private static let engine = EngineConfiguration()
    private static let logging = ServeConfiguration()
    private static let judge = JudgeConfiguration()
    private static func onOff(_ on: Bool) -> String { on ? "on" : "off" }

    public static let config = ConfigSetting(
        flag: "config",
        summary:
            "Read settings from FILE: JSON object or 'key = value' lines; flags and LONGRM_* variables win over it.",
        defaultText: nil, valueName: "file")
    public static let checkConfig = ConfigSetting(
        flag: "check-config",
        summary: "Validate the settings, print the effective configuration and exit (no model load).",
        defaultText: nil, fromEnvironment: false)
    public static let host = ConfigSetting(flag: "host", summary: "Address to listen on.", defaultText: app.server.host)
    public static let port = ConfigSetting(
        flag: "port", summary: "Port to listen on (0 = any free port, printed at start).",
        defaultText: String(app.server.port))
    public static let apiKey = ConfigSetting(
        flag: "api-key", summary: "Require 'Authorization: Bearer <key>' (except /health, /ready, /metrics).",
        defaultText: "none", secret: true)
    public static let defaultMethod = ConfigSetting(
        flag: "default-method", summary: "Method when a request names none: likelihood, classifier or judge.",
        defaultText: "classifier if the model has a head, else likelihood")
    public static let timeoutMs = ConfigSetting(
        flag: "timeout-ms", summary: "Default per-request deadline in milliseconds.",
        defaultText: String(app.api.defaultTimeoutMs))
    public static let maxQueueRequests = ConfigSetting(
        flag: "max-queue-requests", summary: "Queued requests beyond which new ones get 429.",
        defaultText: String(queue.maxQueuedRequests))
    public static let maxQueueTokens = ConfigSetting(
        flag: "max-queue-tokens", summary: "Queued tokens beyond which new requests get 429.",
        defaultText: String(queue.maxQueuedTokens))
    public static let maxConnections = ConfigSetting(
        flag: "max-connections", summary: "Open connections served at once.",
        defaultText: String(app.server.maxConnections))
    public static let maxBodyBytes = ConfigSetting(
        flag: "max-body-bytes", summary: "Largest request body accepted, in bytes.",
        defaultText: String(app.server.limits.maxBodyBytes))
    public static let drainTimeoutMs = ConfigSetting(
        flag: "drain-timeout-ms",
        summary: "On SIGTERM, how long requests in flight may take (a second SIGTERM or SIGHUP stops at once).",
        defaultText: String(app.server.drainTimeout.milliseconds))
    public static let logFormat = ConfigSetting(
        flag: "log-format", summary: "Log line format on stderr: logfmt or json.",
        defaultText: logging.logFormat.rawValue)
    public static let logLevel = ConfigSetting(
        flag: "log-level",
        summary:
            "Least severe level logged: trace, debug, info, notice, warning, error or critical (access lines are info).",
        defaultText: logging.logLevel.rawValue)

    public static let model = ConfigSetting(
        flag: "model", summary: "Path of the GGUF model.",
        defaultText: "$LONGRM_DEFAULT_MODEL or ~/.cache/longrm/models/gemma-3-270m-q4_k_m.gguf",
        valueName: "path")
    public static let contextSize = ConfigSetting(
        flag: "ctx-size",
        summary: "Tokens one sequence may hold (context + prompt + response); 0 = the model's trained context.",
        defaultText: String(engine.contextSize))
    public static let workers = ConfigSetting(
        flag: "workers", summary: "Engine worker threads, each with its own llama.cpp context.",
        defaultText: String(engine.workers))
    public static let threads = ConfigSetting(
        flag: "threads", summary: "CPU threads per worker.", defaultText: String(engine.threads))
    public static let parallel = ConfigSetting(
        flag: "parallel",
        summary:
            "Accepted and ignored: candidates are decoded one per llama_decode call, so rewards do not depend on what else is in flight.",
        defaultText: String(engine.parallelSequences))
    public static let cacheSlots = ConfigSetting(
        flag: "cache-slots",
        summary:
            "KV streams per worker, each caching one context of up to --ctx-size tokens (set by --kv-budget when given).",
        defaultText: String(engine.cacheSlots))
    public static let kvBudget = ConfigSetting(
        flag: "kv-budget",
        summary:
            "KV cache memory for all workers, in tokens (262144) or bytes (8GiB, 512MiB); sets --cache-slots. Refused at start-up when it cannot hold 2 windows per worker.",
        defaultText: "none (--cache-slots decides)", valueName: "size")
    public static let kvType = ConfigSetting(
        flag: "kv-type",
        summary:
            "KV cache element type: f16, or q8_0 (about half the memory, needs --flash-attn: llama.cpp quantizes V only there).",
        defaultText: engine.kvType.rawValue, valueName: "type")
    public static let cacheTokens = ConfigSetting(
        flag: "cache-tokens", summary: "Most prompt tokens kept in the cross-request cache per worker.",
        defaultText: String(engine.cacheTokens))
    public static let batchSize = ConfigSetting(
        flag: "batch-size", summary: "Tokens per llama_decode call.", defaultText: String(engine.batchSize))
    public static let microBatchSize = ConfigSetting(
        flag: "ubatch-size", summary: "Physical micro-batch size.", defaultText: String(engine.microBatchSize))
    public static let flashAttention = ConfigSetting(
        flag: "flash-attn",
        summary: "Use flash attention (faster on long contexts; rewards then depend slightly on batch shape).",
        defaultText: onOff(engine.flashAttention))
    public static let gpuLayers = ConfigSetting(
        flag: "gpu-layers",
        summary: "Model layers to offload to a GPU (-1 = all); needs a GPU build of llama.cpp (docs/OPERATIONS.md).",
        defaultText: String(engine.gpuLayers))
    public static let repack = ConfigSetting(
        flag: "repack",
        summary:
            "Use llama.cpp's repacked weight layouts: faster prompt processing, but rewards then depend slightly on batch shape.",
        defaultText: onOff(engine.repackWeights))
    public static let rewardLabel = ConfigSetting(
        flag: "reward-label",
        summary: "Classifier label reported as the reward (a label name or index); the others are in reward_vectors.",
        defaultText: engine.rewardLabel ?? "the first label")
    public static let noPrefixSharing = ConfigSetting(
        flag: "no-prefix-sharing",
        summary: "Decode every candidate with its own copy of the prompt (slow reference for benchmarks).",
        defaultText: onOff(!engine.sharePrefix))

    public static let judgeTemplate = ConfigSetting(
        flag: "judge-template",
        summary:
            "A judge template file (JSON: name, kind, system, user with placeholders, answer_prefix, verdict_pattern; docs/JUDGE.md).",
        defaultText: "none (built-in pair, rank, critique, plain)", valueName: "file")
    public static let judgeMaxNewTokens = ConfigSetting(
        flag: "judge-max-new-tokens",
        summary: "Most tokens a judge request may generate (max_new_tokens above it is a 400).",
        defaultText: String(judge.maxNewTokensCap))
    public static let judgeSequences = ConfigSetting(
        flag: "judge-sequences",
        summary:
            "KV sequences per worker for judge generation, apart from --parallel (each costs a window of KV memory; 0 disables generation).",
        defaultText: String(engine.generationSequences))
    public static let judgeNewTokens = ConfigSetting(
        flag: "judge-new-tokens", summary: "Tokens a judge generates when a request gives no max_new_tokens.",
        defaultText: String(judge.defaultMaxNewTokens))

    public static let all: [ConfigSetting] = [
        config, checkConfig, host, port, apiKey, defaultMethod, timeoutMs, maxQueueRequests, maxQueueTokens,
        maxConnections,
        maxBodyBytes, drainTimeoutMs, logFormat, logLevel, model, contextSize, workers, threads, parallel, cacheSlots,
        kvBudget, kvType,
        cacheTokens, batchSize, microBatchSize, gpuLayers, flashAttention, repack, noPrefixSharing, rewardLabel,
        judgeTemplate, judgeMaxNewTokens, judgeNewTokens, judgeSequences,
    ]

    /// Keys a config file may set: everything that has an environment variable, except `config` itself.
    public static var fileKeys: Set<String> {
        Set(all.filter { $0.fromEnvironment && $0.flag != config.flag }.map(\.flag))
    }
}
