import Foundation
import Testing

@testable import RewardBench

@Suite struct MetricsTests {
    func pair(_ task: String, _ bucket: String, correct: Bool, consistent: Bool? = nil) -> ItemResult {
        ItemResult(
            key: "\(task)-\(bucket)-\(Int.random(in: 0..<1_000_000))", id: nil, task: task, taskType: .pairWise,
            subtype: nil, lengthBucket: bucket, method: "judge", model: "m", order: [0, 1],
            score: correct ? 1 : 0, exact: correct, consistent: consistent)
    }

    func bon(_ task: String, _ bucket: String, ranking: [Int]) -> ItemResult {
        ItemResult(
            key: "\(task)-\(bucket)-\(ranking)", id: nil, task: task, taskType: .bestOfN, subtype: nil,
            lengthBucket: bucket, method: "judge", model: "m", order: Array(ranking.indices), ranking: ranking,
            score: Grading.positionAccuracy(ranking), exact: ranking == Array(ranking.indices))
    }

    func failed(_ task: String, _ bucket: String) -> ItemResult {
        ItemResult(
            key: "f-\(task)-\(bucket)", id: nil, task: task, taskType: .pairWise, subtype: nil, lengthBucket: bucket,
            order: [0, 1], error: "HTTP 400: too long")
    }

    @Test func positionAccuracyCountsExactPositions() {
        #expect(Grading.positionAccuracy([0, 1, 2, 3]) == 1)
        #expect(Grading.positionAccuracy([0, 2, 1, 3]) == 0.5)
        #expect(Grading.positionAccuracy([1, 0, 2]) == 1.0 / 3.0)
        #expect(Grading.positionAccuracy([3, 2, 1, 0]) == 0)
    }

    @Test func summaryAggregatesPerTaskAndLength() throws {
        let results = [
            pair("LongQA", "4k", correct: true, consistent: true),
            pair("LongQA", "4k", correct: false, consistent: false),
            pair("LongQA", "8k", correct: true, consistent: true),
            pair("Summ", "8k", correct: true, consistent: true),
            bon("Summ", "4k", ranking: [0, 1, 2]),  // exact
            bon("Summ", "8k", ranking: [0, 2, 1]),  // 1/3 positions
            bon("Code", "16k", ranking: [1, 0, 2, 3]),  // 2/4 positions
            failed("Code", "16k"),
        ]
        let summary = BenchSummary(results: results, badLines: 2)
        #expect(summary.items == 8)
        #expect(summary.badLines == 2)
        #expect(summary.label == "judge · m")
        let total = summary.total
        #expect(total.pairCount == 4)
        #expect(total.pairAccuracy == 0.75)
        #expect(total.bonCount == 3)
        #expect(abs(total.bonPositionAccuracy! - (1 + 1.0 / 3 + 0.5) / 3) < 1e-12)
        #expect(abs(total.bonExactAccuracy! - 1.0 / 3) < 1e-12)
        #expect(total.failed == 1)
        #expect(total.consistencyRate == 0.75)
        #expect(abs(total.overall! - (3 + 1 + 1.0 / 3 + 0.5) / 7) < 1e-12)

        #expect(summary.byTask.map(\.name) == ["LongQA", "Summ", "Code"])
        let longQA = summary.byTask[0]
        #expect(longQA.pairAccuracy == 2.0 / 3.0)
        #expect(longQA.bonPositionAccuracy == nil)
        let code = summary.byTask[2]
        #expect(code.bonPositionAccuracy == 0.5)
        #expect(code.bonExactAccuracy == 0)
        #expect(code.failed == 1)

        #expect(summary.byLength.map(\.name) == ["4k", "8k", "16k"])
        #expect(summary.byLength[0].pairAccuracy == 0.5)
        #expect(summary.byLength[0].bonExactAccuracy == 1)
        #expect(summary.byLength[1].pairAccuracy == 1)
        #expect(abs(summary.byLength[1].bonPositionAccuracy! - 1.0 / 3) < 1e-12)
    }

    @Test func subtypesGroupLikeThePaper() {
        var same = pair("LongQA", "4k", correct: true)
        same.subtype = "same"
        var diff = pair("LongQA", "4k", correct: false)
        diff.subtype = "diff"
        var rank3 = bon("Summ", "8k", ranking: [0, 1, 2])
        rank3.subtype = "3"
        let summary = BenchSummary(results: [same, diff, rank3])
        #expect(summary.bySubtype.map(\.name) == ["BestOfN/3", "PairWise/diff", "PairWise/same"])
        #expect(summary.bySubtype.map(\.overall) == [1, 0, 1])
    }

    @Test func summaryRoundTripsThroughJSON() throws {
        let summary = BenchSummary(results: [pair("Math", "32k", correct: true), bon("Math", "64k", ranking: [0, 1])])
        let encoder = JSONEncoder()
        let data = try encoder.encode(summary)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"pair_accuracy\":1"))
        let decoded = try JSONDecoder().decode(BenchSummary.self, from: data)
        #expect(decoded == summary)
    }

    @Test func pairwiseAnswerMapsBackThroughTheShownOrder() {
        let record = BenchRecord(
            key: "k", file: "f", line: 1, id: nil, messages: [], taskType: .pairWise,
            responses: ["chosen", "rejected"],
            task: "LongQA", subtype: nil, lengthBucket: "4k", raw: .null)
        // Shown swapped: position 0 holds "rejected". The server prefers position 1 (= chosen).
        let swapped = Presentation(order: [1, 0])
        let reply = PairwiseReply(rewards: [-2, -1], preferred: 1, probability: 0.3, method: "likelihood")
        let result = Grading.result(for: record, presentation: swapped, pairwise: reply)
        #expect(result.score == 1)
        #expect(result.rewards == [-1, -2])
        #expect(result.ranking == [0, 1])
        #expect(abs(result.probability! - 0.7) < 1e-12)
        let wrong = Grading.result(
            for: record, presentation: swapped,
            pairwise: PairwiseReply(rewards: [0, -1], preferred: 0, probability: 0.9))
        #expect(wrong.score == 0)
        #expect(abs(wrong.probability! - 0.1) < 1e-12)
    }

    @Test func bestOfNRankingMapsBackThroughTheShownOrder() {
        let record = BenchRecord(
            key: "k", file: "f", line: 1, id: nil, messages: [], taskType: .bestOfN, responses: ["a", "b", "c"],
            task: "ICL", subtype: "3", lengthBucket: "8k", raw: .null)
        // Shown c, a, b. A server ranking "a, b, c" sees positions 1, 2, 0.
        let presentation = Presentation(order: [2, 0, 1])
        let reply = BestOfNReply(rewards: [0.1, 0.9, 0.5], ranking: [1, 2, 0], best: 1)
        let result = Grading.result(for: record, presentation: presentation, bestOfN: reply)
        #expect(result.ranking == [0, 1, 2])
        #expect(result.exact == true)
        #expect(result.score == 1)
        #expect(result.rewards == [0.9, 0.5, 0.1])
    }

    @Test func tableShowsGroupsAndFailures() {
        let summary = BenchSummary(results: [pair("LongQA", "4k", correct: true), failed("LongQA", "8k")], badLines: 1)
        let table = SummaryTable.render(summary)
        #expect(table.contains("LongQA"))
        #expect(table.contains("100.0%"))
        #expect(table.contains("failed items: 1"))
        #expect(table.contains("bad input lines: 1"))
    }

    @Test func progressLineHasETA() {
        let line = ProgressReporter.format(label: "bench", done: 25, total: 100, failed: 2, elapsed: 30, bar: true)
        #expect(line.contains("25/100"))
        #expect(line.contains("(2 failed)"))
        #expect(line.contains("ETA 1m30s"))
        #expect(line.contains("[######..................]"))
        let plain = ProgressReporter.format(label: "bench", done: 100, total: 100, failed: 0, elapsed: 3700, bar: false)
        #expect(!plain.contains("ETA"))
        #expect(!plain.contains("["))
        #expect(plain.contains("1h01m elapsed"))
    }
}
