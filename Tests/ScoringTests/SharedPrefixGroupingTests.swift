import Testing

@testable import Scoring

/// Classifier queries without an assistant header that share a long leading text (`/get_reward` without
/// `prompts`, an unrecognised template) are cut at that text only where the tokens stay the whole text's.
@Suite(.serialized) struct SharedPrefixGroupingTests {
    static let shared = String(repeating: "the museum east wing holds the maritime collection\n", count: 6)
    static let queries = ["the east wing", "the west wing", "nobody knows", "it is in the east"].map { shared + $0 }

    /// The default model's tokenizer (Gemma, no space prefix) keeps the tokens across a cut after a line break.
    @Test func aCutAfterALineBreakIsUsedWhereTheTokensStayTheSame() async throws {
        let model = try await TestModel.scorer().model
        let items = try RewardQueries.items(queries: Self.queries, prompts: nil, method: .classifier, model: model)
        #expect(
            items.allSatisfy { $0.source == .sharedPrefix && $0.input == .raw(Self.shared) }, "\(items.map(\.source))")
        for (item, query) in zip(items, Self.queries) {
            let tokens = { (text: String) in model.tokenize(text, addSpecial: false, parseSpecial: true) }
            #expect(tokens(Self.shared) + tokens(item.response) == tokens(query))
        }
    }

    /// The tiny causal classifier's SentencePiece tokenizer adds a space prefix to every text, so a cut would
    /// change the second half's first token: the whole texts are scored, ungrouped.
    @Test func aCutThatWouldChangeTheTokensIsNotUsed() async throws {
        let scorer = try await ClassifierTests.load("tiny-causal-cls.gguf")
        defer { scorer.shutdown() }
        let model = scorer.model
        let tokens = { (text: String) in model.tokenize(text, addSpecial: false, parseSpecial: true) }
        #expect(
            tokens(Self.shared) + tokens("the east wing") != tokens(Self.queries[0]),
            "premise: the cut changes the tokens")
        let items = try RewardQueries.items(queries: Self.queries, prompts: nil, method: .classifier, model: model)
        #expect(items == Self.queries.map { RewardQueries.Item(input: .raw(""), response: $0, source: .none) })
    }
}
