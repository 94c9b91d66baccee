import ArgumentParser
import Foundation
import RewardBench

/// `longrm vote`: consistency majority voting by judge servers; keeps pairs the judges agree on, with the
/// labels swapped where they agree against them.
struct VoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vote",
        abstract: "Filter preference pairs by majority vote of one or more judge servers.")

    @Argument(help: "Long-RewardBench-format JSONL files (PairWise records are voted on).")
    var inputs: [String]

    @Option(name: .customLong("url"), help: "Judge server base URL (repeatable). Default http://127.0.0.1:8080.")
    var urls: [String] = []

    @Option(help: "Scoring method the servers use.")
    var method = "judge"

    @Flag(help: "Ask each sample in both orders of the pair.")
    var orders = false

    @Option(help: "Samples per server (each a seeded order; both orders with --orders).")
    var samples = 1

    @Option(help: "Keep a record only when at least this share of the votes agrees.")
    var threshold = 0.75

    @Option(help: "Output JSONL of kept records.")
    var out: String

    @OptionGroup var request: RewardRequestOptions

    func validate() throws {
        if !(0...1).contains(threshold) { throw ValidationError("--threshold must be in 0...1") }
        if samples < 1 { throw ValidationError("--samples must be ≥ 1") }
    }

    func run() async throws {
        let loaded = try RecordLoader.load(paths: inputs)
        for issue in loaded.issues { BenchCLI.warn("bad line \(issue)") }
        var records = loaded.records
        if let limit = request.limit { records = Array(records.prefix(limit)) }
        var counts = VoteCounts()
        let pairs = records.filter { $0.taskType == .pairWise }
        counts.skipped = records.count - pairs.count

        let clients: [any RewardClient] = try (urls.isEmpty ? ["http://127.0.0.1:8080"] : urls).map { text in
            guard let url = URL(string: text), url.host != nil else { throw ValidationError("bad --url \(text)") }
            return HTTPRewardClient(
                url: url, timeout: request.requestTimeout, retry: RetryPolicy(maxAttempts: request.retries))
        }
        let runner = VoteRunner(
            clients: clients, method: method, normalize: request.normalize, truncation: request.truncation,
            samples: samples,
            bothOrders: orders, seed: request.seed)
        let progress = ProgressReporter(total: pairs.count, label: "vote")
        let outcomes = try await boundedMap(pairs, concurrency: request.concurrency) { record in
            let outcome = try await runner.tally(record)
            progress.advance(failed: outcome.tally.total == 0)
            return outcome
        }

        var lines: [String] = []
        for (record, outcome) in zip(pairs, outcomes) {
            let decision = Voting.decide(outcome.tally, threshold: threshold)
            counts.count(decision)
            counts.failedQueries += outcome.failedQueries
            if outcome.tally.total == 0, let error = outcome.errors.first {
                BenchCLI.warn("\(record.key): no votes (\(error))")
            }
            if let kept = Voting.apply(decision, tally: outcome.tally, to: record.raw) {
                lines.append(try kept.jsonLine())
            }
        }
        try (lines.map { $0 + "\n" }.joined()).write(toFile: out, atomically: true, encoding: .utf8)
        print(
            "\(pairs.count) pairs voted: kept \(counts.kept), flipped \(counts.flipped), dropped \(counts.dropped)"
                + " (threshold \(threshold)); wrote \(lines.count) to \(out)")
        if counts.skipped > 0 { print("skipped \(counts.skipped) records that are not PairWise") }
        if counts.failedQueries > 0 { print("\(counts.failedQueries) queries failed (not counted as votes)") }
        if !loaded.issues.isEmpty { print("\(loaded.issues.count) bad input lines") }
    }
}
