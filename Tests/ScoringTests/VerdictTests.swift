import Foundation
import Testing

@testable import Scoring

/// Verdict parsing, the swap rule, template validation and prompt orders: pure, no model.
@Suite struct VerdictTests {
    static var pair: VerdictParser { VerdictParser(template: .pair, labelCount: 2) }
    static var rank: VerdictParser { VerdictParser(template: .rank, labelCount: 3) }
    static var critique: VerdictParser { VerdictParser(template: .critique, labelCount: 1) }

    @Test func pairMarkers() {
        #expect(Self.pair.read("Assistant A cites the context. [[A]]").verdict == .pair(0))
        #expect(Self.pair.read("B is right.\n\n[[B]]").verdict == .pair(1))
        #expect(Self.pair.read("[[b]]").verdict == .pair(1), "labels are read case-insensitively")
        #expect(Self.pair.read("Both are equally good. [[C]]").verdict == .pair(nil), "[[C]] is a tie")
        #expect(Self.pair.read("[[tie]]").verdict == .pair(nil))
    }

    @Test func noneAndMalformedAreReportedWithAReason() {
        let none = Self.pair.read("I cannot decide between them.")
        #expect(none.verdict == nil && none.written == nil && none.reason == "no verdict found")
        let empty = Self.pair.read("")
        #expect(empty.verdict == nil && empty.reason == "no text was generated")
        let malformed = Self.pair.read("The verdict: [[D]]")
        #expect(malformed.verdict == nil && malformed.written == "[[D]]")
        #expect(malformed.reason?.contains("malformed verdict [[D]]") == true, "\(malformed.reason ?? "nil")")
        let unclosed = Self.pair.read("Final: [[A")
        #expect(unclosed.verdict == nil && unclosed.reason == "no verdict found")
    }

    /// The first complete verdict wins (generation stops there; see VerdictParser).
    @Test func repeatedVerdictsFirstWins() {
        #expect(Self.pair.read("[[B]] on reflection, no: [[A]]").verdict == .pair(1))
        #expect(Self.critique.read("[Score: 3] ... [Score: 8]").verdict == .score(3))
    }

    @Test func rankings() {
        #expect(Self.rank.read("Analysis… [[B>A>C]]").verdict == .ranking([[1], [0], [2]]))
        #expect(Self.rank.read("[[ C > A = B ]]").verdict == .ranking([[2], [0, 1]]), "spaces and ties")
        #expect(Self.rank.read("[[B>A]]").reason?.contains("missing C") == true)
        #expect(Self.rank.read("[[B>B>A]]").reason?.contains("B appears twice") == true)
        #expect(Self.rank.read("[[B>A>D]]").reason?.contains("not one of the 3 labels") == true)
        #expect(Self.rank.read("[[B>>A>C]]").reason?.contains("empty place") == true)
    }

    @Test func scores() {
        #expect(Self.critique.read("Good answer. [Score: 7]").verdict == .score(7))
        #expect(Self.critique.read("[Score:9]").verdict == .score(9))
        #expect(Self.critique.read("[Score: 12]").reason?.contains("outside 0…9") == true)
        #expect(Self.critique.read("[Score: high]").reason?.contains("not a number") == true)
        #expect(Self.critique.firstMatchEnd(in: "ab [Score: 4] cd") == 13)
    }

    @Test func swapRule() {
        let agree = JudgeScoring.swapRule(0.8, 0.7)
        #expect(agree.consistent && abs(agree.probability - 0.75) < 1e-12)
        let disagree = JudgeScoring.swapRule(0.9, 0.2)
        #expect(!disagree.consistent && disagree.probability == 0.5, "disagreeing orders are a tie")
        let unread = JudgeScoring.swapRule(1, nil)
        #expect(!unread.consistent && unread.probability == 0.5, "an unreadable order makes a tie")
        let bothTie = JudgeScoring.swapRule(0.5, 0.5)
        #expect(bothTie.consistent && bothTie.probability == 0.5)
    }

    @Test func templateValidationNamesWhatIsMissing() throws {
        for template in JudgeTemplate.builtIn { _ = try template.validated() }
        var broken = JudgeTemplate.pair
        broken.name = "mine"
        broken.user = "Context: {context}\nA: {response_a}"
        #expect(
            throws: ScoringError.invalidRequest(
                field: "judge-template",
                reason: "template \"mine\" lacks the placeholders {question}, {response_b} in its user text")
        ) {
            try broken.validated()
        }
        var pattern = JudgeTemplate.critique
        pattern.verdictPattern = #"\[Score: (\d+)\] (\w+)"#
        #expect(throws: ScoringError.self) { try pattern.validated() }
        pattern.verdictPattern = "[unclosed"
        #expect(throws: ScoringError.self) { try pattern.validated() }
    }

    @Test func templateFiles() throws {
        func parse(_ json: String) throws(ScoringError) -> JudgeTemplate {
            try JudgeTemplateFile.parse(Data(json.utf8), source: "t.json")
        }
        let critique = try parse(
            #"{"name":"mine","kind":"critique","user":"{context}|{question}|{response}","scale":[1,5]}"#)
        #expect(critique.scaleMin == 1 && critique.scaleMax == 5 && critique.answerPrefix == "[Score: ")
        #expect(critique.verdictPattern == JudgeTemplate.critique.verdictPattern, "the kind's pattern by default")
        #expect(
            throws: ScoringError.invalidRequest(
                field: "judge-template",
                reason: "t.json: template \"p\" lacks the placeholder {response_b} in its user text")
        ) {
            try parse(#"{"name":"p","kind":"pair","user":"{context} {question} {response_a}"}"#)
        }
        #expect(throws: ScoringError.self) { try parse(#"{"name":"p","kind":"pair","user":"x","colour":"red"}"#) }
        #expect(throws: ScoringError.self) { try parse(#"{"name":"p","kind":"plain","user":"x"}"#) }
        #expect(throws: ScoringError.self) {
            try parse(
                #"{"name":"p","kind":"pair","user":"{context} {question} {response_a} {response_b}","scale":[1,5]}"#)
        }
        let templates = JudgeTemplates(extra: [critique])
        #expect(templates.names == ["pair", "rank", "critique", "plain", "mine"])
    }

    @Test func promptOrders() {
        let pair = Planner.promptOrders(kind: .pair, count: 2).map(\.shown)
        #expect(pair == [[0, 1], [1, 0]], "a pair is shown in both orders")
        let three = Planner.promptOrders(kind: .rank, count: 3).map(\.shown)
        #expect(three == [[0, 1, 2], [1, 2, 0], [2, 0, 1]], "every rotation up to 4 candidates")
        let six = Planner.promptOrders(kind: .rank, count: 6)
        #expect(six.count == 4 && six.map(\.shown[0]) == [0, 1, 3, 4], "4 evenly spaced rotations beyond")
        let twenty = Planner.promptOrders(kind: .rank, count: 20)
        let chunks = Dictionary(grouping: twenty, by: \.chunk).mapValues { Set($0.flatMap(\.shown)) }
        #expect(chunks.count == 3 && chunks.values.map(\.count).sorted() == [6, 7, 7], "balanced chunks of at most 8")
        #expect(chunks.values.reduce(Set<Int>()) { $0.union($1) } == Set(0..<20))
        #expect(twenty.allSatisfy { $0.shown.count <= Planner.rankChunk })
        #expect(Planner.promptOrders(kind: .critique, count: 3).map(\.shown) == [[0], [1], [2]])
    }

    /// Generated rankings over rotations: positions averaged per candidate; an unreadable rotation is left out.
    @Test func rankAggregationFromGeneratedText() {
        let prompts = Planner.promptOrders(kind: .rank, count: 3).enumerated().map {
            JudgeRun.Prompt(shown: $1.shown, chunk: $1.chunk, group: 0, suffix: $0)
        }
        let run = JudgeRun(
            template: .rank, mode: .generate, returnText: true, candidateCount: 3, prompts: prompts,
            labels: ["A", "B", "C"])
        // Shown [0,1,2]: candidate 1 best. Shown [1,2,0]: A (=1) best. Shown [2,0,1]: unreadable.
        let texts = ["[[B>A>C]]", "so [[A>C>B]]", "no idea"]
        let outcome = JobOutcome(
            groups: [
                GroupOutcome(
                    values: [[], [], []],
                    generated: texts.map {
                        GeneratedText(tokens: [1, 2], text: $0, stop: $0 == "no idea" ? .maxNewTokens : .verdict)
                    })
            ], reusedTokens: 0, computedTokens: 0)
        let out = JudgeScoring.score(run, outcome: outcome, pairwise: false)
        // Rotation 1 ranks candidates 1 > 0 > 2; rotation 2 (A=1, B=2, C=0) ranks 1 > 0 > 2 too.
        // Scores 1 − position/2: candidate 0 gets 0.5 twice, 1 gets 1 twice, 2 gets 0 twice.
        #expect(out.rewards == [0.5, 1.0, 0.0])
        #expect(out.report.consistent == false, "one rotation was unreadable")
        #expect(out.report.verdicts[2].verdict == nil)
        #expect(out.report.verdicts[2].reason == "reached max_new_tokens (2) without a verdict")
        #expect(out.report.verdicts[0].text == "[[B>A>C]]" && out.report.verdicts[0].stop == "verdict")
    }

    /// Pair in generation mode: both orders must name the same response, else a tie.
    @Test func pairGenerationSwap() {
        let prompts = [
            JudgeRun.Prompt(shown: [0, 1], chunk: 0, group: 0, suffix: 0),
            JudgeRun.Prompt(shown: [1, 0], chunk: 0, group: 0, suffix: 1),
        ]
        let run = JudgeRun(
            template: .pair, mode: .generate, returnText: false, candidateCount: 2, prompts: prompts,
            labels: ["A", "B"])
        func outcome(_ a: String, _ b: String) -> JobOutcome {
            JobOutcome(
                groups: [
                    GroupOutcome(
                        values: [[], []], generated: [a, b].map { GeneratedText(tokens: [], text: $0, stop: .verdict) })
                ],
                reusedTokens: 0, computedTokens: 0)
        }
        let agree = JudgeScoring.score(run, outcome: outcome("[[A]]", "[[B]]"), pairwise: true)
        #expect(agree.rewards == [1, 0] && agree.probability == 1 && agree.report.consistent == true)
        let positional = JudgeScoring.score(run, outcome: outcome("[[A]]", "[[A]]"), pairwise: true)
        #expect(positional.rewards == [0.5, 0.5] && positional.report.consistent == false, "position bias is a tie")
        let unread = JudgeScoring.score(run, outcome: outcome("[[B]]", "hmm"), pairwise: true)
        #expect(unread.rewards == [0.5, 0.5] && unread.report.consistent == false)
        #expect(unread.report.verdicts[0].text == nil, "text only when asked")
    }
}
