import ArgumentParser
import Foundation
import RewardBench
import Synchronization

/// `longrm bench`: Long-RewardBench against a running server (`run`, the default), and charts (`chart`).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run Long-RewardBench against a running LongRM server, or chart saved results.",
        subcommands: [BenchRunCommand.self, BenchChartCommand.self],
        defaultSubcommand: BenchRunCommand.self)
}

struct BenchRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Score Long-RewardBench JSONL files (resumable) and report accuracy per task and length.")

    @Argument(help: "Long-RewardBench JSONL files, or folders of them (e.g. the dataset's folder).")
    var inputs: [String]

    @Option(help: "Base URL of the running server.")
    var url = "http://127.0.0.1:8080"

    @Option(help: "Scoring method to ask for: likelihood, classifier or judge (default: the server's).")
    var method: String?

    @Option(name: .customLong("timeout-ms"), help: "Per-request deadline sent to the server.")
    var timeoutMs: Int?

    @Option(
        name: .customLong("judge-template"),
        help:
            "Judge template the server should use (pair, rank, critique, plain, or a --judge-template file's name); implies --method judge."
    )
    var judgeTemplate: String?

    @Option(
        name: .customLong("judge-mode"),
        help: "Judge verdicts from probabilities (probability) or greedy generation (generate); implies --method judge."
    )
    var judgeMode: String?

    @Option(
        name: .customLong("max-new-tokens"), help: "Judge generation: most new tokens per prompt (the paper: 2048).")
    var maxNewTokens: Int?

    @Option(name: .customLong("task"), help: "Only these tasks (repeatable or comma-separated), e.g. LongQA,Summ.")
    var tasks: [String] = []

    @Option(name: .customLong("length"), help: "Only these length buckets (repeatable or comma-separated), e.g. 4k,8k.")
    var lengths: [String] = []

    @Option(help: "Results JSONL, one line per finished item; items already in it are skipped on restart.")
    var out = "bench-results.jsonl"

    @Option(help: "Summary JSON path (default: next to --out, .summary.json).")
    var summary: String?

    @Option(help: "SVG chart path (default: next to --out, .svg).")
    var svg: String?

    @Option(help: "Series name for the summary and chart (default: method · model).")
    var label: String?

    @Flag(help: "Discard an existing results file instead of resuming from it.")
    var fresh = false

    @OptionGroup var request: RewardRequestOptions

    func validate() throws {
        if URL(string: url)?.host == nil { throw ValidationError("--url \(url) is not a URL") }
        if judging, let method, method != "judge" {
            throw ValidationError(
                "--judge-template, --judge-mode and --max-new-tokens apply to --method judge, not \(method)")
        }
        if let judgeMode, !["probability", "generate"].contains(judgeMode) {
            throw ValidationError("--judge-mode must be probability or generate")
        }
    }

    func run() async throws {
        let loaded = try RecordLoader.load(paths: inputs, keepRaw: false)
        for issue in loaded.issues { BenchCLI.warn("bad line \(issue)") }
        let selected = select(loaded.records)
        if selected.isEmpty { throw BenchCLI.Failure("no items selected (\(loaded.records.count) loaded)") }

        if fresh { try? FileManager.default.removeItem(atPath: out) }
        let (previous, issues) = try ResultsStore.load(path: out)
        for issue in issues { BenchCLI.warn("skipping \(issue)") }
        let existing = ResultsStore.latest(previous)
        let conflicts = BenchRunner.conflictingMethods(
            existing, method: judging ? "judge" : method, normalize: request.normalize)
        if !conflicts.isEmpty {
            throw BenchCLI.Failure(
                "\(out) holds results of method \(conflicts.joined(separator: ", ")); use another --out or --fresh")
        }
        let pending = BenchRunner.pending(selected, done: existing)
        BenchCLI.warn(
            "\(selected.count) items selected, \(selected.count - pending.count) already done, \(pending.count) to score"
        )

        var latest = existing
        if !pending.isEmpty {
            for result in try await score(pending) { latest[result.key] = result }
        }

        let results = selected.compactMap { latest[$0.key] }
        let report = BenchSummary(results: results, badLines: loaded.issues.count, label: label)
        print(SummaryTable.render(report), terminator: "")
        let stem = out.hasSuffix(".jsonl") ? String(out.dropLast(6)) : out
        let summaryPath = summary ?? stem + ".summary.json"
        let svgPath = svg ?? stem + ".svg"
        try BenchCLI.writeJSON(report, to: summaryPath)
        // The paper's length table is pairwise; a Best-of-N-only run falls back to the overall figure.
        let metric: ChartMetric = report.total.pairCount > 0 ? .pairwise : .overall
        let chart = SVGChart.render(
            [SVGChart.series(from: report, metric: metric)], title: metric.title + " vs context length")
        try chart.write(toFile: svgPath, atomically: true, encoding: .utf8)
        BenchCLI.warn("wrote \(out), \(summaryPath), \(svgPath)")
    }

    var judging: Bool { judgeTemplate != nil || judgeMode != nil || maxNewTokens != nil }

    func select(_ records: [BenchRecord]) -> [BenchRecord] {
        let taskSet = Set(BenchCLI.split(tasks).map { $0.lowercased() })
        let lengthSet = Set(BenchCLI.split(lengths).map { $0.lowercased() })
        var chosen = records.filter { record in
            (taskSet.isEmpty || taskSet.contains(record.task.lowercased()))
                && (lengthSet.isEmpty || lengthSet.contains(record.lengthBucket.lowercased()))
        }
        if let limit = request.limit { chosen = Array(chosen.prefix(limit)) }
        return chosen
    }

    func score(_ pending: [BenchRecord]) async throws -> [ItemResult] {
        guard let base = URL(string: url) else { throw ValidationError("bad --url") }
        let client = HTTPRewardClient(
            url: base, timeout: request.requestTimeout, retry: RetryPolicy(maxAttempts: request.retries))
        // A judge run follows the paper: a prompt over the window keeps its head and tail, the answers whole.
        let options = BenchOptions(
            method: judging ? "judge" : method, normalize: request.normalize,
            truncation: request.truncation ?? (judging ? "middle" : nil), timeoutMs: timeoutMs, seed: request.seed,
            concurrency: request.concurrency, judgeTemplate: judgeTemplate, judgeMode: judgeMode,
            maxNewTokens: maxNewTokens)
        let writer = try LineWriter(path: out)
        let progress = ProgressReporter(total: pending.count, label: "bench")
        let unreachable = UnreachableGuard(limit: max(3, request.concurrency * 2))
        let results = try await BenchRunner.run(pending, client: client, options: options) { result in
            try await writer.append(try ResultsStore.encodeLine(result))
            progress.advance(failed: result.failed)
            try unreachable.check(result)
        }
        try await writer.close()
        return results
    }
}

/// Stops the run when the server cannot be reached at all, instead of failing every item after its retries.
final class UnreachableGuard: Sendable {
    let limit: Int
    private let streak = Mutex(0)

    init(limit: Int) {
        self.limit = limit
    }

    func check(_ result: ItemResult) throws {
        let count = streak.withLock { streak in
            streak = result.error?.hasPrefix("connection:") == true ? streak + 1 : 0
            return streak
        }
        if count >= limit {
            throw BenchCLI.Failure(
                "\(count) items in a row could not reach the server (\(result.error ?? "")); stopped, rerun to resume")
        }
    }
}

struct BenchChartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chart",
        abstract: "Draw accuracy against context length, one line per summary (.json) or results (.jsonl) file.")

    @Argument(help: "Summary JSON files written by `bench`, or results JSONL files.")
    var files: [String]

    @Option(help: "Where to write the SVG.")
    var svg = "bench-chart.svg"

    @Option(help: "pairwise, bon-position, bon-exact or overall.")
    var metric = "pairwise"

    @Option(name: .customLong("name"), help: "Series names in file order (repeatable; default: each summary's label).")
    var names: [String] = []

    @Option(help: "Chart title.")
    var title: String?

    func run() async throws {
        guard let chosen = ChartMetric(rawValue: metric) else {
            throw ValidationError(
                "--metric must be one of \(ChartMetric.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var series: [ChartSeries] = []
        for (index, file) in files.enumerated() {
            let summary = try loadSummary(file)
            var name = index < names.count ? names[index] : summary.label
            if name.isEmpty { name = (file as NSString).lastPathComponent }
            let line = SVGChart.series(from: summary, metric: chosen, name: name)
            series.append(line)
            let points = LengthBucket.ordered(line.values.keys).map { "\($0) \(SummaryTable.percent(line.values[$0]))" }
            print("\(name): \(points.joined(separator: ", "))")
        }
        let text = SVGChart.render(series, title: title ?? chosen.title + " vs context length")
        try text.write(toFile: svg, atomically: true, encoding: .utf8)
        BenchCLI.warn("wrote \(svg)")
    }

    func loadSummary(_ file: String) throws -> BenchSummary {
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        if file.hasSuffix(".jsonl") {
            let (results, issues) = ResultsStore.load(data: data, name: file)
            for issue in issues { BenchCLI.warn("skipping \(issue)") }
            return BenchSummary(results: Array(ResultsStore.latest(results).values))
        }
        do {
            return try JSONDecoder().decode(BenchSummary.self, from: data)
        } catch {
            throw BenchCLI.Failure("\(file) is not a bench summary: \(error)")
        }
    }
}

/// Helpers shared by the bench, synth and vote commands (namespaced to keep the CLI module's globals clean).
enum BenchCLI {
    /// A runtime failure: printed as "Error: ..." without the usage text that ValidationError adds.
    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    static func split(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.filter {
            !$0.isEmpty
        }
    }

    static func warn(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    static func writeJSON(_ value: some Encodable, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(value)
        data.append(0x0A)
        try data.write(to: URL(fileURLWithPath: path))
    }
}
