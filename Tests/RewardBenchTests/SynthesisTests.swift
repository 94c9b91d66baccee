import Foundation
import Testing

@testable import RewardBench

@Suite struct SynthesisTests {
    let short = ShortRecord(
        id: "s1", task: "LongQA", prompt: "Which colour was the lighthouse painted?",
        evidence: "The lighthouse was painted a deep cobalt blue in the spring.",
        chosen: "It was painted cobalt blue.", rejected: "It was painted bright red.")

    /// A corpus with long and short sentences and paragraph breaks.
    let corpus = FillerCorpus(
        texts: (0..<30).map { paragraph in
            (0..<5).map { sentence in
                "Paragraph \(paragraph) sentence \(sentence) talks about "
                    + Array(repeating: "quiet", count: sentence * 3 + 2).joined(separator: " ") + " things."
            }.joined(separator: " ")
        })

    func context(of record: JSONValue) throws -> String {
        let user = try #require(record["prompt_template"]?.arrayValue?.first?["content"]?.stringValue)
        let start = try #require(user.range(of: "<document>\n"))
        let end = try #require(user.range(of: "\n</document>"))
        return String(user[start.upperBound..<end.lowerBound])
    }

    func promptTokens(_ record: JSONValue) throws -> Int {
        let messages = try #require(record["prompt_template"]?.arrayValue).map {
            ChatMessage(role: $0["role"]!.stringValue!, content: $0["content"]!.stringValue!)
        }
        return WordTokenizer().count(LongContextBuilder.promptText(messages))
    }

    @Test(arguments: [1024, 2048, 4096, 3000])
    func hitsTheTokenTargetWithinTwoPercent(length: Int) throws {
        let synthesizer = Synthesizer(depth: .fixed(0.5), seed: 1)
        let record = try synthesizer.record(for: short, index: 0, length: length, counter: WordTokenizer()) {
            CorpusFiller(corpus: corpus, generator: &$0)
        }
        let tokens = try promptTokens(record)
        #expect(abs(Double(tokens - length)) <= 0.02 * Double(length))
        // The question alone is the last message (the server's context is everything before it).
        let messages = try #require(record["prompt_template"]?.arrayValue)
        #expect(messages.map { $0["role"]?.stringValue } == ["system", "user"])
        #expect(messages[1]["content"]?.stringValue == "Question: \(short.prompt)")
        #expect(record["n_tokens"]?.doubleValue == Double(tokens))
        #expect(record["ctx_length_for_length"]?.stringValue == LengthBucket.label(tokens: length))
        #expect(record["tasktype"]?.stringValue == "PairWise")
        #expect(record["chosen"]?.stringValue == short.chosen)
        // It loads as a bench record.
        let line = try record.jsonLine()
        let loaded = RecordLoader.load(data: Data(line.utf8), name: "synth.jsonl")
        #expect(loaded.issues.isEmpty)
        #expect(loaded.records.first?.task == "LongQA")
    }

    @Test(arguments: [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0])
    func placesEvidenceAtTheAskedDepthOnASentenceBoundary(depth: Double) throws {
        let synthesizer = Synthesizer(depth: .fixed(depth), seed: 5)
        let record = try synthesizer.record(for: short, index: 0, length: 2048, counter: WordTokenizer()) {
            CorpusFiller(corpus: corpus, generator: &$0)
        }
        let text = try context(of: record)
        let range = try #require(text.range(of: short.evidence))
        let before = String(text[..<range.lowerBound])
        let after = String(text[range.upperBound...])
        // Measured independently of the builder: share of filler words before the evidence.
        let wordsBefore = before.split(whereSeparator: \.isWhitespace).count
        let wordsAfter = after.split(whereSeparator: \.isWhitespace).count
        let measured = Double(wordsBefore) / Double(wordsBefore + wordsAfter)
        #expect(abs(measured - depth) < 0.03)
        #expect(abs((record["evidence_depth_actual"]?.doubleValue ?? -1) - depth) < 0.03)
        #expect(record["evidence_depth"]?.doubleValue == depth)
        // Boundary: the filler before ends a sentence, the filler after starts one.
        let trimmedBefore = before.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(trimmedBefore.isEmpty || trimmedBefore.hasSuffix("."))
        let trimmedAfter = after.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(trimmedAfter.isEmpty || trimmedAfter.first!.isUppercase)
    }

    @Test func sameSeedSameRecordOtherSeedOtherFiller() throws {
        func make(seed: UInt64) throws -> JSONValue {
            try Synthesizer(depth: .random, seed: seed).record(
                for: short, index: 0, length: 1024, counter: WordTokenizer()
            ) { CorpusFiller(corpus: corpus, generator: &$0) }
        }
        #expect(try make(seed: 4) == make(seed: 4))
        #expect(try context(of: make(seed: 4)) != context(of: make(seed: 5)))
        let depth = try #require(try make(seed: 4)["evidence_depth"]?.doubleValue)
        #expect((0...1).contains(depth))
    }

    @Test func targetSmallerThanThePromptIsAnError() {
        let synthesizer = Synthesizer(depth: .fixed(0.5), seed: 1)
        #expect(throws: RecordError.self) {
            try synthesizer.record(for: short, index: 0, length: 10, counter: WordTokenizer()) {
                CorpusFiller(corpus: corpus, generator: &$0)
            }
        }
    }

    @Test func aCounterThatNeverGrowsIsAnError() {
        let synthesizer = Synthesizer(depth: .fixed(0.5), seed: 1)
        #expect(throws: RecordError.self) {
            try synthesizer.record(for: short, index: 0, length: 100, counter: FunctionTokenCounter { _ in 3 }) {
                CorpusFiller(corpus: corpus, generator: &$0)
            }
        }
    }

    @Test func approximateCounterAlsoHitsTheTarget() throws {
        let synthesizer = Synthesizer(depth: .fixed(0.3), seed: 2)
        var generator = SeededRandom(seed: 1)
        _ = generator.next()
        let record = try synthesizer.record(for: short, index: 3, length: 8192, counter: ApproxTokenCounter()) {
            ProseFiller(generator: $0)
        }
        let messages = try #require(record["prompt_template"]?.arrayValue).map {
            ChatMessage(role: $0["role"]!.stringValue!, content: $0["content"]!.stringValue!)
        }
        let tokens = ApproxTokenCounter().count(LongContextBuilder.promptText(messages))
        #expect(abs(Double(tokens - 8192)) <= 0.02 * 8192)
    }

    @Test func corpusSplitsSentencesAndParagraphs() {
        let units = FillerCorpus.split("One two. Three \"four!\" Five\n\nSix? Seven")
        #expect(units.map(\.text) == ["One two.", "Three \"four!\"", "Five", "Six?", "Seven"])
        #expect(units.map(\.paragraphStart) == [true, false, false, true, false])
    }

    @Test func shortRecordsReportBadLines() {
        let text = """
            {"prompt":"q","evidence":"e","chosen":"c","rejected":"r","id":5}
            {"prompt":"q","chosen":"c","rejected":"r"}
            nope
            """
        let (records, issues) = ShortRecord.load(data: Data(text.utf8), name: "short.jsonl")
        #expect(records.map(\.id) == ["5"])
        #expect(issues.map(\.line) == [2, 3])
        #expect(issues[0].message.contains("evidence"))
    }
}
