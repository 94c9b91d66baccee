import ArgumentParser
import ServeConfig

/// Engine flags shared by `serve` and `score`. Valued options are kept as text and converted by
/// `ServeConfiguration.resolve`, so a bad value reads the same (and exits the same) from a flag, LONGRM_<FLAG>
/// or a file.
struct EngineOptions: ParsableArguments {
    typealias S = ServeSettings

    @Option(name: .customLong(S.model.flag), help: S.model.argumentHelp) var model: String?
    @Option(name: .customLong(S.contextSize.flag), help: S.contextSize.argumentHelp) var contextSize: String?
    @Option(name: .customLong(S.workers.flag), help: S.workers.argumentHelp) var workers: String?
    @Option(name: .customLong(S.threads.flag), help: S.threads.argumentHelp) var threads: String?
    @Option(name: .customLong(S.parallel.flag), help: S.parallel.argumentHelp) var parallel: String?
    @Option(name: .customLong(S.cacheSlots.flag), help: S.cacheSlots.argumentHelp) var cacheSlots: String?
    @Option(name: .customLong(S.kvBudget.flag), help: S.kvBudget.argumentHelp) var kvBudget: String?
    @Option(name: .customLong(S.kvType.flag), help: S.kvType.argumentHelp) var kvType: String?
    @Option(name: .customLong(S.cacheTokens.flag), help: S.cacheTokens.argumentHelp) var cacheTokens: String?
    @Option(name: .customLong(S.batchSize.flag), help: S.batchSize.argumentHelp) var batchSize: String?
    @Option(name: .customLong(S.microBatchSize.flag), help: S.microBatchSize.argumentHelp) var microBatchSize: String?
    // Unconditional: `--gpu-layers -1` (all) must not read -1 as a flag.
    @Option(name: .customLong(S.gpuLayers.flag), parsing: .unconditional, help: S.gpuLayers.argumentHelp)
    var gpuLayers: String?
    @Option(name: .customLong(S.rewardLabel.flag), help: S.rewardLabel.argumentHelp) var rewardLabel: String?
    @Option(name: .customLong(S.judgeTemplate.flag), help: S.judgeTemplate.argumentHelp) var judgeTemplate: String?
    @Option(name: .customLong(S.judgeMaxNewTokens.flag), help: S.judgeMaxNewTokens.argumentHelp) var judgeMaxNewTokens:
        String?
    @Option(name: .customLong(S.judgeNewTokens.flag), help: S.judgeNewTokens.argumentHelp) var judgeNewTokens: String?
    @Option(name: .customLong(S.judgeSequences.flag), help: S.judgeSequences.argumentHelp) var judgeSequences: String?
    @Flag(name: .customLong(S.flashAttention.flag), help: S.flashAttention.argumentHelp) var flashAttention = false
    @Flag(name: .customLong(S.repack.flag), help: S.repack.argumentHelp) var repack = false
    @Flag(name: .customLong(S.noPrefixSharing.flag), help: S.noPrefixSharing.argumentHelp) var noPrefixSharing = false

    /// The values given, by flag name, for the resolver.
    var commandLine: CommandLineValues {
        CommandLineValues(
            options: [
                S.model.flag: model, S.contextSize.flag: contextSize, S.workers.flag: workers, S.threads.flag: threads,
                S.parallel.flag: parallel, S.cacheSlots.flag: cacheSlots, S.kvBudget.flag: kvBudget,
                S.kvType.flag: kvType, S.cacheTokens.flag: cacheTokens,
                S.batchSize.flag: batchSize, S.microBatchSize.flag: microBatchSize, S.gpuLayers.flag: gpuLayers,
                S.rewardLabel.flag: rewardLabel, S.judgeTemplate.flag: judgeTemplate,
                S.judgeMaxNewTokens.flag: judgeMaxNewTokens, S.judgeNewTokens.flag: judgeNewTokens,
                S.judgeSequences.flag: judgeSequences,
            ],
            switches: [
                S.flashAttention.flag: flashAttention, S.repack.flag: repack, S.noPrefixSharing.flag: noPrefixSharing,
            ])
    }
}

extension ConfigSetting {
    var argumentHelp: ArgumentHelp { ArgumentHelp(helpText, valueName: valueName) }
}

extension CommandLineValues {
    func merging(_ other: CommandLineValues) -> CommandLineValues {
        var merged = self
        merged.options.merge(other.options) { first, _ in first }
        merged.switches.formUnion(other.switches)
        return merged
    }
}
