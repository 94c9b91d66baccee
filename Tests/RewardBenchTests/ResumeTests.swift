import Foundation
import Testing

@testable import RewardBench

@Suite struct ResumeTests {
    func makeRecords(_ count: Int) -> [BenchRecord] {
        records((1...count).map { benchLine(id: $0, chosen: "the right answer \($0)", rejected: "no \($0)") }).records
    }

    @Test func onlyUnfinishedItemsAreSentAfterARestart() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("results.jsonl").path
        let all = makeRecords(6)
        let options = BenchOptions(seed: 3, concurrency: 2)

        // First run: items 1-3, item 2 fails; then the process "dies" mid-line.
        let firstClient = FakeClient(failWhen: { $0.responses.contains("no 2") })
        let writer = try LineWriter(path: path)
        _ = try await BenchRunner.run(Array(all.prefix(3)), client: firstClient, options: options) { result in
            try await writer.append(try ResultsStore.encodeLine(result))
        }
        try await writer.close()
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"key":"LongQA#4","tas"#.utf8))
        try handle.close()

        let (previous, issues) = try ResultsStore.load(path: path)
        #expect(previous.count == 3)
        #expect(issues.count == 1)
        let done = ResultsStore.latest(previous)
        let pending = BenchRunner.pending(all, done: done)
        #expect(pending.map(\.id) == ["2", "4", "5", "6"])

        let secondClient = FakeClient()
        let writer2 = try LineWriter(path: path)
        _ = try await BenchRunner.run(pending, client: secondClient, options: options) { result in
            try await writer2.append(try ResultsStore.encodeLine(result))
        }
        try await writer2.close()
        let sentRejected = Set(secondClient.sent.flatMap(\.responses).filter { $0.hasPrefix("no ") })
        #expect(sentRejected == ["no 2", "no 4", "no 5", "no 6"])

        let (final, finalIssues) = try ResultsStore.load(path: path)
        #expect(finalIssues.count == 1)  // the torn line stays unreadable, but later lines are intact
        let latest = ResultsStore.latest(final)
        #expect(latest.count == 6)
        #expect(latest.values.allSatisfy { !$0.failed })
        #expect(BenchRunner.pending(all, done: latest).isEmpty)
        let summary = BenchSummary(results: all.compactMap { latest[$0.key] })
        #expect(summary.total.pairAccuracy == 1)  // the fake prefers the longer response: chosen
    }

    @Test func resumingWithAnotherMethodIsRefused() {
        let existing = [
            "a": ItemResult(
                key: "a", id: nil, task: "T", taskType: .pairWise, subtype: nil, lengthBucket: "4k",
                method: "likelihood",
                order: [0, 1], score: 1)
        ]
        #expect(BenchRunner.conflictingMethods(existing, method: "judge") == ["likelihood"])
        #expect(BenchRunner.conflictingMethods(existing, method: "likelihood").isEmpty)
        #expect(BenchRunner.conflictingMethods(existing, method: nil).isEmpty)
        var lifted = existing
        lifted["a"]?.normalize = "lift"
        #expect(BenchRunner.conflictingMethods(lifted, method: "likelihood", normalize: "mean") == ["lift"])
        #expect(BenchRunner.conflictingMethods(lifted, method: "likelihood", normalize: "lift").isEmpty)
    }

    @Test func requestsCarryShuffledResponsesAndOptions() async throws {
        let all = records((1...40).map { benchLine(id: $0, chosen: "chosen answer", rejected: "rej") }).records
        let client = FakeClient()
        let options = BenchOptions(
            method: "likelihood", normalize: "lift", truncation: "middle", timeoutMs: 5000, seed: 11, concurrency: 4)
        let results = try await BenchRunner.run(all, client: client, options: options) { _ in }
        #expect(results.map(\.key) == all.map(\.key))
        #expect(results.allSatisfy { $0.score == 1 })
        let sent = client.sent
        #expect(sent.count == 40)
        #expect(
            sent.allSatisfy {
                $0.method == "likelihood" && $0.normalize == "lift" && $0.truncation == "middle" && $0.timeoutMs == 5000
            })
        #expect(BenchSummary(results: results).label == "likelihood/lift · fake")
        let swapped = sent.filter { $0.responses.first == "rej" }.count
        #expect(swapped > 5 && swapped < 35)
        // The order recorded per item is the one that was sent.
        for result in results {
            let expected = Presentation(count: 2, seed: 11, key: result.key).order
            #expect(result.order == expected)
        }
    }

    @Test func boundedMapNeverExceedsItsLimit() async throws {
        let counter = ConcurrencyProbe()
        let output = try await boundedMap(Array(0..<30), concurrency: 3) { value in
            await counter.enter()
            try await Task.sleep(nanoseconds: 2_000_000)
            await counter.leave()
            return value * 2
        }
        #expect(output == (0..<30).map { $0 * 2 })
        let peak = await counter.peak
        #expect(peak <= 3)
        #expect(peak >= 2)
    }
}

actor ConcurrencyProbe {
    var current = 0
    var peak = 0
    func enter() {
        current += 1
        peak = max(peak, current)
    }
    func leave() { current -= 1 }
}
