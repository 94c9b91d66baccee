import Foundation
import Testing

@testable import RewardBench

@Suite struct GroundingTests {
    func suite(_ length: Int, count: Int, seed: UInt64 = 1) throws -> [JSONValue] {
        let grounding = GroundingSuite(seed: seed)
        let synthesizer = Synthesizer(depth: .random, seed: seed)
        return try (0..<count).map { index in
            let short = grounding.shortRecord(index: index, lengthLabel: LengthBucket.label(tokens: length))
            return try synthesizer.record(for: short, index: index, length: length, counter: WordTokenizer()) {
                ProseFiller(generator: $0)
            }
        }
    }

    @Test func factsQuestionsAndWrongValues() throws {
        let records = try suite(1024, count: 10)
        #expect(records.count == 10)
        for (index, record) in records.enumerated() {
            let chosen = try #require(record["chosen"]?.stringValue)
            let rejected = try #require(record["rejected"]?.stringValue)
            let context = try #require(record["prompt_template"]?.arrayValue?.first?["content"]?.stringValue)
            #expect(record["task"]?.stringValue == "Grounding")
            #expect(chosen != rejected)
            #expect(context.contains(chosen))
            #expect(!context.contains(rejected))
            let wrongValue = String(rejected.dropLast().split(separator: " ").last!)
            // Odd items reuse another fact's value from the same context, even items a fresh random one.
            if index % 2 == 1 {
                #expect(record["subtype"]?.stringValue == "confusable")
                #expect(context.contains(" \(wrongValue)."))
            } else {
                #expect(record["subtype"]?.stringValue == "random")
                #expect(!context.contains(wrongValue))
            }
            // The question names the fact's subject.
            let question = try #require(record["question"]?.stringValue)
            let subject = chosen.replacingOccurrences(of: "The ", with: "").components(separatedBy: " is ")[0]
            #expect(question.contains(subject))
        }
    }

    @Test func fillerIsVariedAndHasNoDigits() throws {
        var filler = ProseFiller(generator: SeededRandom(seed: 3))
        let sentences = (0..<400).map { _ in filler.next().text }
        #expect(Set(sentences).count > 300)
        #expect(sentences.allSatisfy { !$0.contains(where: \.isNumber) })
        #expect(sentences.allSatisfy { $0.first!.isUppercase && $0.hasSuffix(".") })
    }

    @Test func deterministicFromTheSeed() throws {
        #expect(try suite(1024, count: 3, seed: 8) == suite(1024, count: 3, seed: 8))
        #expect(try suite(1024, count: 3, seed: 8) != suite(1024, count: 3, seed: 9))
    }

    @Test func hitsEachLength() throws {
        for length in [1024, 2048, 4096] {
            for record in try suite(length, count: 2) {
                let tokens = try #require(record["n_tokens"]?.doubleValue)
                #expect(abs(tokens - Double(length)) <= 0.02 * Double(length))
            }
        }
    }
}
