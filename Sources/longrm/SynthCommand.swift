import ArgumentParser
import Foundation
import RewardBench
import Scoring

/// `longrm synth`: short-to-long synthesis of Long-RewardBench PairWise records, and the built-in
/// grounding suite (facts in generated filler).
struct SynthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Stretch short preference records to long contexts, or generate the grounding suite.")

    @Option(help: "Short records JSONL: prompt, evidence, chosen, rejected, optional id and task.")
    var input: String?

    @Option(help: "Filler corpus: a folder of .txt files or a JSONL with a text field (default: generated prose).")
    var filler: String?

    @Flag(name: .customLong("grounding-suite"), help: "Generate fact-in-filler records; no input files needed.")
    var groundingSuite = false

    @Option(help: "Grounding suite: records per length.")
    var count = 20

    @Option(help: "Grounding suite: facts per context (one asked about, the others confusable).")
    var facts = 5

    @Option(help: "Token targets, comma-separated (k = 1024): e.g. 1k,2k,4k.")
    var lengths = "1k,2k,4k"

    @Option(help: "Evidence depth 0.0 (start) ... 1.0 (end), or random.")
    var depth = "random"

    @Option(help: "Seed; the same seed and inputs give the same file.")
    var seed: UInt64 = 42

    @Option(help: "Output JSONL.")
    var out = "synth.jsonl"

    @Option(help: "GGUF model whose tokenizer counts the tokens.")
    var model: String?

    @Flag(name: .customLong("tokenizer-approx"), help: "Count tokens as characters / 4 instead of with a model.")
    var tokenizerApprox = false

    @Option(help: "Allowed relative miss of the token target.")
    var tolerance = 0.02

    func validate() throws {
        if groundingSuite == (input != nil) { throw ValidationError("give either --input or --grounding-suite") }
        if (model != nil) == tokenizerApprox { throw ValidationError("give either --model PATH or --tokenizer-approx") }
        if DepthChoice(depth) == nil { throw ValidationError("--depth must be a number in 0...1 or 'random'") }
        if count < 1 || facts < 2 { throw ValidationError("--count must be ≥ 1 and --facts ≥ 2") }
    }

    func run() async throws {
        let targets = try BenchCLI.split([lengths]).map { text in
            guard let tokens = LengthBucket.tokens(text) else { throw ValidationError("bad length '\(text)'") }
            return tokens
        }
        let synthesizer = Synthesizer(depth: DepthChoice(depth)!, seed: seed, tolerance: tolerance)
        let counter = try tokenCounter()
        let corpus = try filler.map { try FillerCorpus.load(path: $0) }

        var jobs: [(short: ShortRecord, index: Int, length: Int)] = []
        var badLines = 0
        if groundingSuite {
            let suite = GroundingSuite(seed: seed, factsPerContext: facts)
            for length in targets {
                for index in 0..<count {
                    jobs.append(
                        (
                            suite.shortRecord(index: index, lengthLabel: LengthBucket.label(tokens: length)), index,
                            length
                        ))
                }
            }
        } else if let input {
            let data = try Data(contentsOf: URL(fileURLWithPath: input))
            let (shorts, issues) = ShortRecord.load(data: data, name: (input as NSString).lastPathComponent)
            for issue in issues { BenchCLI.warn("bad line \(issue)") }
            badLines = issues.count
            for length in targets {
                jobs += shorts.enumerated().map { ($0.element, $0.offset, length) }
            }
        }

        let progress = ProgressReporter(total: jobs.count, label: "synth")
        var lines: [String] = []
        var misses: [Double] = []
        for job in jobs {
            let record = try synthesizer.record(for: job.short, index: job.index, length: job.length, counter: counter)
            {
                generator -> AnyFiller in
                if let corpus { return AnyFiller(CorpusFiller(corpus: corpus, generator: &generator)) }
                return AnyFiller(ProseFiller(generator: generator))
            }
            lines.append(try record.jsonLine())
            if let tokens = record["n_tokens"]?.doubleValue {
                misses.append(abs(tokens - Double(job.length)) / Double(job.length))
            }
            progress.advance(failed: false)
        }
        try (lines.map { $0 + "\n" }.joined()).write(toFile: out, atomically: true, encoding: .utf8)
        let worst = misses.max() ?? 0
        print(
            "wrote \(lines.count) records to \(out) (\(targets.map { LengthBucket.label(tokens: $0) }.joined(separator: ",")));"
                + " largest token miss \(String(format: "%.2f%%", worst * 100))"
                + (badLines > 0 ? "; \(badLines) bad input lines skipped" : ""))
    }

    func tokenCounter() throws -> any TokenCounter {
        guard let model else { return ApproxTokenCounter() }
        let loaded: Model
        do {
            loaded = try Model(path: model)
        } catch {
            throw BenchCLI.Failure("cannot load \(model): \(error.message)")
        }
        return FunctionTokenCounter { loaded.tokenize($0, addSpecial: false).count }
    }
}

/// Either filler kind behind one type, so the synthesizer's generic call takes both.
struct AnyFiller: FillerSource {
    private var nextUnit: () -> FillerUnit

    init(_ source: some FillerSource) {
        var source = source
        nextUnit = { source.next() }
    }

    mutating func next() -> FillerUnit {
        nextUnit()
    }
}
