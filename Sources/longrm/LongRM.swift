import ArgumentParser

@main
struct LongRM: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "longrm",
        abstract: "LongRM Serve: long-context reward-model scoring over HTTP, on llama.cpp.",
        subcommands: [ServeCommand.self, ScoreCommand.self, BenchCommand.self, SynthCommand.self, VoteCommand.self],
        defaultSubcommand: nil
    )
}
