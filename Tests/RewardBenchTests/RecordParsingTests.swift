import Foundation
import Testing

@testable import RewardBench

@Suite struct RecordParsingTests {
    @Test func pairwiseRecordReadsEveryField() throws {
        let line = benchLine(id: 7, task: "Cite", bucket: "16k", chosen: "yes", rejected: "no", subtype: "same")
        let loaded = records([line], name: "Cite.jsonl")
        #expect(loaded.issues.isEmpty)
        let record = try #require(loaded.records.first)
        #expect(record.id == "7")
        #expect(record.key == "Cite#7")
        #expect(record.line == 1)
        #expect(record.taskType == .pairWise)
        #expect(record.responses == ["yes", "no"])
        #expect(record.task == "Cite")
        #expect(record.subtype == "same")
        #expect(record.lengthBucket == "16k")
        #expect(record.messages.map(\.role) == ["system", "user"])
        #expect(record.messages[1].content.hasPrefix("Some long context."))
    }

    @Test func rawJSONCanBeDropped() throws {
        let data = Data(benchLine(id: 1).utf8)
        #expect(RecordLoader.load(data: data, name: "a.jsonl").records.first?.raw["id"] != nil)
        let lean = try #require(RecordLoader.load(data: data, name: "a.jsonl", keepRaw: false).records.first)
        #expect(lean.raw == .null)
        #expect(lean.responses == ["good", "bad"])
    }

    @Test func bestOfNRecordKeepsCandidateOrder() throws {
        let line = benchLine(id: 3, type: "BestOfN", bucket: "128k", candidates: ["best", "mid", "worst"])
        let record = try #require(records([line]).records.first)
        #expect(record.taskType == .bestOfN)
        #expect(record.responses == ["best", "mid", "worst"])
        #expect(record.lengthBucket == "128k")
    }

    @Test func realDatasetShapeLoadsUnchanged() throws {
        // Field set of the published files: numeric id and length, source/subtask, nulls for the other format.
        let line = """
            {"id": 12, "prompt_template": [{"role": "user", "content": "ctx"}], "question": "q", "source": "narrativeqa", \
            "chosen": "a", "rejected": "b", "subtask": "x", "chosen_model": "m1", "rejected_model": "m2", \
            "ctx_length_for_length": "8k", "ctx_length_for_words": "6k", "length": 8000, "words_count": 6000, \
            "task": "LongQA", "tasktype": "PairWise", "subtype": "diff", "candidates_model": null, "candidates": null, \
            "candidates_score": null}
            """
        let loaded = records([line], name: "LongQA.jsonl")
        #expect(loaded.issues.isEmpty)
        let record = try #require(loaded.records.first)
        #expect(record.task == "LongQA")
        #expect(record.responses == ["a", "b"])
        #expect(record.subtype == "diff")
        #expect(record.raw["chosen_model"]?.stringValue == "m1")
    }

    @Test func taskComesFromFileNameWhenFieldIsNotATask() throws {
        let line =
            #"{"prompt_template":[{"role":"user","content":"c"}],"chosen":"a","rejected":"b","ctx_length_for_length":"4k","task":"narrativeqa","subtype":2}"#
        let record = try #require(records([line], name: "Summ.jsonl").records.first)
        #expect(record.task == "Summ")
        #expect(record.subtype == "2")
        #expect(record.key == "Summ#line1")
        #expect(record.taskType == .pairWise)
        let other = try #require(records([line], name: "mine.jsonl").records.first)
        #expect(other.task == "narrativeqa")
    }

    @Test func missingTaskTypeWithCandidatesMeansBestOfN() throws {
        let line = benchLine(type: nil, candidates: ["x", "y", "z"])
        #expect(try #require(records([line]).records.first).taskType == .bestOfN)
    }

    @Test func badLinesAreCountedWithTheirLineNumbers() {
        let lines = [
            benchLine(id: 1),
            "{not json",
            "",
            #"{"prompt_template":[{"role":"user","content":"c"}],"rejected":"b","ctx_length_for_length":"4k"}"#,
            benchLine(id: 2, type: "Listwise"),
            benchLine(id: 3, type: "BestOfN", candidates: ["only one"]),
            #"{"chosen":"a","rejected":"b","ctx_length_for_length":"4k"}"#,
            #"{"prompt_template":[{"role":"user","content":"c"}],"chosen":"a","rejected":"b"}"#,
            "[1, 2]",
            benchLine(id: 4),
        ]
        let loaded = records(lines)
        #expect(loaded.records.map(\.id) == ["1", "4"])
        #expect(loaded.issues.map(\.line) == [2, 4, 5, 6, 7, 8, 9])
        #expect(loaded.issues[0].message.contains("invalid JSON"))
        #expect(loaded.issues[1].message.contains("chosen"))
        #expect(loaded.issues[2].message.contains("Listwise"))
        #expect(loaded.issues[3].message.contains("candidates"))
        #expect(loaded.issues[4].message.contains("prompt_template"))
        #expect(loaded.issues[5].message.contains("ctx_length_for_length"))
        #expect(loaded.issues[6].message.contains("not a JSON object"))
        #expect(loaded.issues[0].description.hasPrefix("LongQA.jsonl:2:"))
    }

    @Test func folderLoadsSortedFilesAndKeepsDuplicateKeysApart() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try (benchLine(id: 1, task: "Math") + "\n" + benchLine(id: 1, task: "Math") + "\n")
            .write(to: directory.appendingPathComponent("Math.jsonl"), atomically: true, encoding: .utf8)
        try (benchLine(id: 1, task: "Code") + "\n").write(
            to: directory.appendingPathComponent("Code.jsonl"), atomically: true, encoding: .utf8)
        try "ignored".write(to: directory.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        let loaded = try RecordLoader.load(paths: [directory.path])
        #expect(loaded.records.map(\.key) == ["Code#1", "Math#1", "Math#1@line2"])
        #expect(Set(loaded.records.map(\.key)).count == 3)
    }

    @Test func lengthBucketsSortByTokens() {
        #expect(
            LengthBucket.ordered(["128k", "4k", "other", "16k", "1500", "8k"]) == [
                "1500", "4k", "8k", "16k", "128k", "other",
            ])
        #expect(LengthBucket.tokens("4k") == 4096)
        #expect(LengthBucket.label(tokens: 2048) == "2k")
        #expect(LengthBucket.label(tokens: 1500) == "1500")
    }
}
