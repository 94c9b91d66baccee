import Foundation
import Testing

@testable import RewardBench

/// `longrm bench run --judge-template/--judge-mode/--max-new-tokens`: the fields sent, and how a judge's tie
/// is graded.
@Suite struct JudgeBenchTests {
    static let record = BenchRecord(
        key: "k", file: "f", line: 1, id: nil, messages: [ChatMessage(role: "user", content: "Q?")],
        taskType: .pairWise,
        responses: ["chosen", "rejected"], task: "LongQA", subtype: nil, lengthBucket: "4k", raw: .null)

    @Test func judgeOptionsTravelAsRequestFields() throws {
        let options = BenchOptions(
            method: "judge", truncation: "middle", seed: 7, judgeTemplate: "pair", judgeMode: "generate",
            maxNewTokens: 2048)
        let presentation = Presentation(count: 2, seed: 7, key: Self.record.key)
        let request = BenchRunner.request(for: Self.record, presentation: presentation, options: options)
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(request)) as? [String: Any]
        #expect(json?["judge_template"] as? String == "pair")
        #expect(json?["judge_mode"] as? String == "generate")
        #expect(json?["max_new_tokens"] as? Int == 2048)
        #expect(json?["truncation"] as? String == "middle")
        #expect(request.responses == presentation.present(Self.record.responses), "candidates in the seeded order")
        let plain =
            try JSONSerialization.jsonObject(
                with: JSONEncoder().encode(
                    BenchRunner.request(for: Self.record, presentation: presentation, options: BenchOptions())))
            as? [String: Any]
        #expect(plain?["judge_mode"] == nil, "left out when not asked")
    }

    /// Orders that disagree come back as a tie (equal rewards): not a correct pick, whichever is "preferred".
    @Test func aTieIsNotACorrectPick() {
        let tie = Grading.result(
            for: Self.record, presentation: Presentation(order: [0, 1]),
            pairwise: PairwiseReply(
                rewards: [0.5, 0.5], preferred: 0, probability: 0.5, consistent: false, method: "judge"))
        #expect(tie.score == 0 && tie.exact == false)
        let right = Grading.result(
            for: Self.record, presentation: Presentation(order: [0, 1]),
            pairwise: PairwiseReply(
                rewards: [0.75, 0.25], preferred: 0, probability: 0.75, consistent: true, method: "judge"))
        #expect(right.score == 1)
    }
}
