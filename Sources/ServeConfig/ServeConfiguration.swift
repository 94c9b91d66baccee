import Logging
import Scoring
import Server

/// Everything `longrm serve` runs with, resolved and checked. Its defaults are the configuration structs'.
public struct ServeConfiguration: Sendable {
    public var app = AppConfiguration()
    public var queueLimits = EnginePool.QueueLimits()
    public var model = ""
    public var engine = EngineConfiguration()
    public var judge = JudgeConfiguration()
    public var logFormat = LogFormat.logfmt
    public var logLevel = Logger.Level.info
    /// Every setting with its value and origin, in resolution order (secrets redacted): the start-up log and
    /// `--check-config`.
    public var effective: [(flag: String, value: String, origin: ConfigOrigin)] = []

    public init() {}
}

/// The raw settings as the command line gave them: valued options by flag name, and the on/off flags given.
public struct CommandLineValues: Sendable {
    public var options: [String: String]
    public var switches: Set<String>

    public init(options: [String: String?] = [:], switches: [String: Bool] = [:]) {
        self.options = options.compactMapValues { $0 }
        self.switches = Set(switches.filter(\.value).keys)
    }
}

extension ServeConfiguration {
    /// Resolves every `serve` setting: command line, then `LONGRM_<FLAG>`, then the config file (`--config` or
    /// `LONGRM_CONFIG`), then the default.
    public static func resolve(commandLine cli: CommandLineValues, environment: [String: String])
        throws(ConfigError) -> ServeConfiguration
    {
        typealias S = ServeSettings
        var bootstrap = ConfigResolver(environment: environment, file: nil)
        let file = try bootstrap.optionalString(S.config, cli: cli.options[S.config.flag]).map {
            path throws(ConfigError) in
            try ConfigFile.load(path, knownFlags: S.fileKeys)
        }
        var r = ConfigResolver(environment: environment, file: file)
        var c = ServeConfiguration()
        func option(_ s: ConfigSetting) -> String? { cli.options[s.flag] }
        c.app.server.host = try r.string(S.host, cli: option(S.host), default: c.app.server.host)
        c.app.server.port = try r.int(S.port, cli: option(S.port), default: c.app.server.port, range: 0...65535)
        c.app.server.apiKey = try r.optionalString(S.apiKey, cli: option(S.apiKey))
        c.app.api.defaultMethod = try r.choice(
            S.defaultMethod, cli: option(S.defaultMethod), default: c.app.api.defaultMethod)
        c.app.api.defaultTimeoutMs = try r.int(
            S.timeoutMs, cli: option(S.timeoutMs), default: c.app.api.defaultTimeoutMs,
            range: 1...Int(Int32.max))
        c.queueLimits.maxQueuedRequests = try r.int(
            S.maxQueueRequests, cli: option(S.maxQueueRequests),
            default: c.queueLimits.maxQueuedRequests, range: 1...Int.max)
        c.queueLimits.maxQueuedTokens = try r.int(
            S.maxQueueTokens, cli: option(S.maxQueueTokens),
            default: c.queueLimits.maxQueuedTokens, range: 1...Int.max)
        c.app.server.maxConnections = try r.int(
            S.maxConnections, cli: option(S.maxConnections),
            default: c.app.server.maxConnections, range: 1...1_000_000)
        c.app.server.limits.maxBodyBytes = try r.int(
            S.maxBodyBytes, cli: option(S.maxBodyBytes),
            default: c.app.server.limits.maxBodyBytes, range: 1024...Int.max)
        let drainMs = try r.int(
            S.drainTimeoutMs, cli: option(S.drainTimeoutMs),
            default: c.app.server.drainTimeout.milliseconds, range: 0...Int(Int32.max))
        c.app.server.drainTimeout = .milliseconds(drainMs)
        c.logFormat = try r.choice(S.logFormat, cli: option(S.logFormat), default: c.logFormat) ?? c.logFormat
        c.logLevel = try r.choice(S.logLevel, cli: option(S.logLevel), default: c.logLevel) ?? c.logLevel
        (c.model, c.engine) = try resolveEngine(cli, &r)
        c.judge = try resolveJudge(cli, &r)
        c.effective = (file.map { [("config", $0.path, bootstrap.effective[0].origin)] } ?? []) + r.effective
        return c
    }

    /// For `score`: the engine settings from the command line and LONGRM_<FLAG> variables (no config file).
    public static func resolveEngine(commandLine cli: CommandLineValues, environment: [String: String])
        throws(ConfigError) -> (model: String, configuration: EngineConfiguration)
    {
        var resolver = ConfigResolver(environment: environment, file: nil)
        return try resolveEngine(cli, &resolver)
    }

    /// For `score`: the judge settings from the command line and LONGRM_<FLAG> variables (no config file).
    public static func resolveJudge(commandLine cli: CommandLineValues, environment: [String: String])
        throws(ConfigError) -> JudgeConfiguration
    {
        var resolver = ConfigResolver(environment: environment, file: nil)
        return try resolveJudge(cli, &resolver)
    }

    /// Judge templates (the built-ins plus a `--judge-template` file, refused here when it lacks a
    /// placeholder) and the generation limits; defaults are `JudgeConfiguration()`'s.
    static func resolveJudge(_ cli: CommandLineValues, _ r: inout ConfigResolver) throws(ConfigError)
        -> JudgeConfiguration
    {
        typealias S = ServeSettings
        func option(_ s: ConfigSetting) -> String? { cli.options[s.flag] }
        let defaults = JudgeConfiguration()
        let cap = try r.int(
            S.judgeMaxNewTokens, cli: option(S.judgeMaxNewTokens), default: defaults.maxNewTokensCap,
            range: 1...1_000_000)
        let standard = try r.int(
            S.judgeNewTokens, cli: option(S.judgeNewTokens),
            default: min(defaults.defaultMaxNewTokens, cap), range: 1...cap)
        var extra: [JudgeTemplate] = []
        if let path = try r.optionalString(S.judgeTemplate, cli: option(S.judgeTemplate)) {
            do {
                extra.append(try JudgeTemplateFile.load(path))
            } catch {
                throw ConfigError(
                    description:
                        "--judge-template: \(error.message.replacingOccurrences(of: "judge-template: ", with: ""))")
            }
        }
        return JudgeConfiguration(
            templates: JudgeTemplates(extra: extra), defaultMaxNewTokens: standard, maxNewTokensCap: cap)
    }

    /// The model path and engine settings; defaults are `EngineConfiguration()`'s, ranges its `validated()`'s.
    static func resolveEngine(_ cli: CommandLineValues, _ r: inout ConfigResolver)
        throws(ConfigError) -> (model: String, configuration: EngineConfiguration)
    {
        typealias S = ServeSettings
        func option(_ s: ConfigSetting) -> String? { cli.options[s.flag] }
        func given(_ s: ConfigSetting) -> Bool { cli.switches.contains(s.flag) }
        let path = try r.string(S.model, cli: option(S.model), default: DefaultPaths.model(environment: r.environment))
        var c = EngineConfiguration()
        c.contextSize = try r.int(
            S.contextSize, cli: option(S.contextSize), default: c.contextSize, range: 0...Int(Int32.max))
        c.workers = try r.int(S.workers, cli: option(S.workers), default: c.workers, range: 1...64)
        c.threads = try r.int(S.threads, cli: option(S.threads), default: c.threads, range: 1...256)
        c.parallelSequences = try r.int(
            S.parallel, cli: option(S.parallel), default: c.parallelSequences, range: 1...64)
        c.cacheSlots = try r.int(S.cacheSlots, cli: option(S.cacheSlots), default: c.cacheSlots, range: 2...64)
        c.kvBudget = try r.value(
            S.kvBudget, cli: option(S.kvBudget), default: KVBudget?.none,
            expected: "tokens (262144) or bytes (8GiB, 512MiB)",
            show: { $0.map(\.description) ?? "none" }
        ) { text -> KVBudget?? in KVBudget(parsing: text).map { .some($0) } }
        c.cacheTokens = try r.int(S.cacheTokens, cli: option(S.cacheTokens), default: c.cacheTokens, range: 0...Int.max)
        c.batchSize = try r.int(S.batchSize, cli: option(S.batchSize), default: c.batchSize, range: 32...Int(Int32.max))
        c.microBatchSize = try r.int(
            S.microBatchSize, cli: option(S.microBatchSize), default: c.microBatchSize,
            range: 32...Int(Int32.max))
        c.gpuLayers = try r.int(S.gpuLayers, cli: option(S.gpuLayers), default: c.gpuLayers, range: -1...10_000)
        c.flashAttention = try r.bool(S.flashAttention, cli: given(S.flashAttention), default: c.flashAttention)
        c.repackWeights = try r.bool(S.repack, cli: given(S.repack), default: c.repackWeights)
        c.kvType = try r.choice(S.kvType, cli: option(S.kvType), default: c.kvType) ?? c.kvType
        c.rewardLabel = try r.optionalString(S.rewardLabel, cli: option(S.rewardLabel))
        c.sharePrefix = !(try r.bool(S.noPrefixSharing, cli: given(S.noPrefixSharing), default: !c.sharePrefix))
        c.generationSequences = try r.int(
            S.judgeSequences, cli: option(S.judgeSequences), default: c.generationSequences,
            range: 0...64)
        guard c.microBatchSize <= c.batchSize else {
            throw ConfigError(
                description: "--ubatch-size (\(c.microBatchSize)) must not exceed --batch-size (\(c.batchSize))")
        }
        guard c.kvType.isAllowed(flashAttention: c.flashAttention) else {
            throw ConfigError(
                description:
                    "--kv-type \(c.kvType.rawValue) needs --flash-attn: llama.cpp quantizes the V cache only inside "
                    + "flash attention (use --kv-type f16 without it)")
        }
        guard c.cacheSlots + c.generationSequences <= 256 else {
            throw ConfigError(description: "--cache-slots + --judge-sequences must be ≤ 256")
        }
        return (path, c)
    }
}

public enum DefaultPaths {
    /// `$LONGRM_DEFAULT_MODEL`, else the default model in the cache (`$LONGRM_CACHE`, else ~/.cache/longrm).
    public static func model(environment: [String: String]) -> String {
        if let path = environment["LONGRM_DEFAULT_MODEL"] { return path }
        let cache = environment["LONGRM_CACHE"] ?? (environment["HOME"] ?? "/root") + "/.cache/longrm"
        return cache + "/models/gemma-3-270m-q4_k_m.gguf"
    }
}

extension Duration {
    /// Whole milliseconds (truncated).
    var milliseconds: Int {
        let (s, atto) = components
        return Int(s) * 1000 + Int(atto / 1_000_000_000_000_000)
    }
}
