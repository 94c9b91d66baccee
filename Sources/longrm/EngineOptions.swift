import ArgumentParser
import Scoring

/// Engine flags shared by `serve` and `score`. Valued options are kept as text and converted by
/// `ConfigResolver`, so a bad value reads the same (and exits the same) from a flag, LONGRM_<FLAG> or a file.
struct EngineOptions: ParsableArguments {
    @Option(name: .customLong(ServeSettings.model.flag), help: ServeSettings.model.help)
    var modelOption: String?

    @Option(name: .customLong(ServeSettings.contextSize.flag), help: ServeSettings.contextSize.help)
    var contextSize: String?

    @Option(name: .customLong(ServeSettings.workers.flag), help: ServeSettings.workers.help)
    var workers: String?

    @Option(name: .customLong(ServeSettings.threads.flag), help: ServeSettings.threads.help)
    var threads: String?

    @Option(name: .customLong(ServeSettings.parallel.flag), help: ServeSettings.parallel.help)
    var parallel: String?

    @Option(name: .customLong(ServeSettings.cacheSlots.flag), help: ServeSettings.cacheSlots.help)
    var cacheSlots: String?

    @Option(name: .customLong(ServeSettings.cacheTokens.flag), help: ServeSettings.cacheTokens.help)
    var cacheTokens: String?

    @Option(name: .customLong(ServeSettings.batchSize.flag), help: ServeSettings.batchSize.help)
    var batchSize: String?

    @Option(name: .customLong(ServeSettings.microBatchSize.flag), help: ServeSettings.microBatchSize.help)
    var microBatchSize: String?

    @Option(name: .customLong(ServeSettings.gpuLayers.flag), help: ServeSettings.gpuLayers.help)
    var gpuLayers: String?

    @Option(name: .customLong(ServeSettings.rewardLabel.flag), help: ServeSettings.rewardLabel.help)
    var rewardLabel: String?

    @Flag(name: .customLong(ServeSettings.flashAttention.flag), help: ServeSettings.flashAttention.help)
    var flashAttention = false

    @Flag(name: .customLong(ServeSettings.repack.flag), help: ServeSettings.repack.help)
    var repack = false

    @Flag(name: .customLong(ServeSettings.noPrefixSharing.flag), help: ServeSettings.noPrefixSharing.help)
    var noPrefixSharing = false

    @Option(name: .customLong(ServeSettings.judgeTemplate.flag), help: ServeSettings.judgeTemplate.help)
    var judgeTemplate: String?

    @Option(name: .customLong(ServeSettings.judgeMaxNewTokens.flag), help: ServeSettings.judgeMaxNewTokens.help)
    var judgeMaxNewTokens: String?

    @Option(name: .customLong(ServeSettings.judgeNewTokens.flag), help: ServeSettings.judgeNewTokens.help)
    var judgeNewTokens: String?

    @Option(name: .customLong(ServeSettings.judgeSequences.flag), help: ServeSettings.judgeSequences.help)
    var judgeSequences: String?

    /// Judge templates (the built-ins plus a `--judge-template` file, refused here when it lacks a
    /// placeholder) and the generation limits.
    func resolveJudge(_ r: inout ConfigResolver) throws(ConfigError) -> JudgeConfiguration {
        typealias S = ServeSettings
        let cap = try r.int(S.judgeMaxNewTokens, cli: judgeMaxNewTokens, default: 2048, range: 1...1_000_000)
        let standard = try r.int(S.judgeNewTokens, cli: judgeNewTokens, default: min(512, cap), range: 1...cap)
        var extra: [JudgeTemplate] = []
        if let path = try r.optionalString(S.judgeTemplate, cli: judgeTemplate) {
            do {
                extra.append(try JudgeTemplateFile.load(path))
            } catch {
                throw ConfigError(description: "--judge-template: \(error.message.replacingOccurrences(of: "judge-template: ", with: ""))")
            }
        }
        return JudgeConfiguration(templates: JudgeTemplates(extra: extra), defaultMaxNewTokens: standard, maxNewTokensCap: cap)
    }

    var judge: JudgeConfiguration {
        get throws(ScoringError) {
            var resolver = ConfigResolver(environment: ProcessEnvironment.values, file: nil)
            do { return try resolveJudge(&resolver) } catch { throw .modelLoadFailed("invalid configuration: \(error)") }
        }
    }

    /// The model path and engine settings; defaults match `EngineConfiguration()`, ranges its `validated()`.
    func resolve(_ r: inout ConfigResolver) throws(ConfigError) -> (model: String, configuration: EngineConfiguration) {
        typealias S = ServeSettings
        let path = try r.string(S.model, cli: modelOption, default: DefaultPaths.model)
        var c = EngineConfiguration()
        c.contextSize = try r.int(S.contextSize, cli: contextSize, default: c.contextSize, range: 0...Int(Int32.max))
        c.workers = try r.int(S.workers, cli: workers, default: c.workers, range: 1...64)
        c.threads = try r.int(S.threads, cli: threads, default: c.threads, range: 1...256)
        c.parallelSequences = try r.int(S.parallel, cli: parallel, default: c.parallelSequences, range: 1...64)
        c.cacheSlots = try r.int(S.cacheSlots, cli: cacheSlots, default: c.cacheSlots, range: 2...64)
        c.cacheTokens = try r.int(S.cacheTokens, cli: cacheTokens, default: c.cacheTokens, range: 0...Int.max)
        c.batchSize = try r.int(S.batchSize, cli: batchSize, default: c.batchSize, range: 32...Int(Int32.max))
        c.microBatchSize = try r.int(S.microBatchSize, cli: microBatchSize, default: c.microBatchSize, range: 32...Int(Int32.max))
        c.gpuLayers = try r.int(S.gpuLayers, cli: gpuLayers, default: c.gpuLayers, range: -1...10_000)
        c.flashAttention = try r.bool(S.flashAttention, cli: flashAttention, default: c.flashAttention)
        c.repackWeights = try r.bool(S.repack, cli: repack, default: c.repackWeights)
        c.rewardLabel = try r.optionalString(S.rewardLabel, cli: rewardLabel)
        c.sharePrefix = !(try r.bool(S.noPrefixSharing, cli: noPrefixSharing, default: !c.sharePrefix))
        c.generationSequences = try r.int(S.judgeSequences, cli: judgeSequences, default: c.generationSequences, range: 0...64)
        guard c.microBatchSize <= c.batchSize else {
            throw ConfigError(description: "--ubatch-size (\(c.microBatchSize)) must not exceed --batch-size (\(c.batchSize))")
        }
        guard c.cacheSlots + c.parallelSequences <= 256 else {
            throw ConfigError(description: "--cache-slots + --parallel must be ≤ 256, got \(c.cacheSlots + c.parallelSequences)")
        }
        guard c.cacheSlots + c.parallelSequences + c.generationSequences <= 256 else {
            throw ConfigError(description: "--cache-slots + --parallel + --judge-sequences must be ≤ 256")
        }
        return (path, c)
    }

    /// For `score`: flags and LONGRM_<FLAG> variables (no config file). Thrown as a ScoringError so the
    /// caller's model-load error path reports it.
    private var resolvedForScore: (model: String, configuration: EngineConfiguration) {
        get throws(ScoringError) {
            var resolver = ConfigResolver(environment: ProcessEnvironment.values, file: nil)
            do { return try resolve(&resolver) } catch { throw .modelLoadFailed("invalid configuration: \(error)") }
        }
    }

    var model: String { get throws(ScoringError) { try resolvedForScore.model } }
    var configuration: EngineConfiguration { get throws(ScoringError) { try resolvedForScore.configuration } }
}

enum DefaultPaths {
    static var model: String {
        let env = ProcessEnvironment.values
        if let path = env["LONGRM_DEFAULT_MODEL"] { return path }
        let cache = env["LONGRM_CACHE"] ?? (env["HOME"] ?? "/root") + "/.cache/longrm"
        return cache + "/models/gemma-3-270m-q4_k_m.gguf"
    }
}
