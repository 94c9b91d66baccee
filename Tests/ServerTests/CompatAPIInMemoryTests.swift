import Foundation
import Scoring
import Server
import Testing

/// The framework routes (vLLM `/classify`, `/score`; Jina/TEI `/rerank`) in memory against the fake engine:
/// shapes held to openapi.json, activations, ordering, field errors, and vLLM's error fields.
@Suite("Framework routes (in memory)")
struct CompatAPIInMemoryTests {
    static let gemma = "<start_of_turn>user\nq<end_of_turn>\n<start_of_turn>model\n"

    static func softmax(_ xs: [Double]) -> [Double] {
        let top = xs.max()!
        let exps = xs.map { exp($0 - top) }
        return exps.map { $0 / exps.reduce(0, +) }
    }
    static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

    @Test func classifySoftmaxesSeveralLabelsByDefaultAndKeepsThemRawOnRequest() async throws {
        let server = InMemoryAPI(fake: FakeScoringService(methods: [.classifier], labels: ["helpful", "safe"]))
        let raw = FakeScoringService.reward("whole text")
        for path in ["/classify", "/v1/classify"] {
            let response = await server.post(path, #"{"model":"anything","input":"whole text"}"#)
            #expect(response.status == 200, "\(response.text)")
            let json = try expectConforms(response, "POST", path)
            let entry = try #require(json["data"]?.array?.first)
            #expect(entry["probs"]?.numbers == Self.softmax([raw, raw + 1]))
            #expect(entry["num_classes"]?.int == 2 && entry["label"]?.string == "safe" && entry["index"]?.int == 0)
            #expect(json["model"]?.string == "fake-model" && json["object"]?.string == "list")
            #expect(json["id"]?.string?.hasPrefix("classify-") == true)
        }
        for flag in ["activation", "use_activation", "softmax"] {
            let response = await server.post("/classify", #"{"input":["whole text"],"\#(flag)":false}"#)
            let json = try expectConforms(response, "POST", "/classify")
            #expect(json["data"]?[0]?["probs"]?.numbers == [raw, raw + 1], "\(flag): \(response.text)")
        }
        #expect(server.fake.received.last?.input == .raw(""), "the classifier scores the whole text")
        #expect(server.fake.received.last?.responses == ["whole text"])
    }

    @Test func classifyKeepsASingleOutputRawUnlessActivationIsAsked() async throws {
        let server = InMemoryAPI(fake: FakeScoringService(methods: [.classifier], labels: ["score"]))
        let raw = FakeScoringService.reward("a text")
        let plain = try expectConforms(await server.post("/classify", #"{"input":"a text"}"#), "POST", "/classify")
        #expect(plain["data"]?[0]?["probs"]?.numbers == [raw], "never a softmax over one logit (always 1.0)")
        let on = await server.post("/classify", #"{"input":"a text","activation":true}"#)
        #expect(try expectConforms(on, "POST", "/classify")["data"]?[0]?["probs"]?.numbers == [Self.sigmoid(raw)])
    }

    @Test func classifyWithoutAHeadSplitsLikeGetRewardAndKeepsInputOrder() async throws {
        let server = InMemoryAPI()
        let inputs = [Self.gemma + "four", Self.gemma + "4", Self.gemma + "a longer answer"]
        let response = try await server.post("/classify", object: ["input": inputs, "activation": false])
        #expect(response.status == 200, "\(response.text)")
        let json = try expectConforms(response, "POST", "/classify")
        let probs = json["data"]?.array?.map { $0["probs"]?.numbers ?? [] }
        #expect(probs == ["four", "4", "a longer answer"].map { [FakeScoringService.reward($0)] })
        #expect(json["data"]?.array?.map { $0["index"]?.int } == [0, 1, 2])
        #expect(json["data"]?[0]?["label"] == .null)
        #expect(server.fake.received.count == 1, "one prompt, one engine request")
        let empty = await server.post("/classify", #"{"input":[]}"#)
        #expect(try expectConforms(empty, "POST", "/classify")["data"] == .array([]))
    }

    @Test func scorePairsText1WithText2AsV1ScoreItems() async throws {
        let server = InMemoryAPI()
        let response = await server.post("/score", #"{"text_1":"q","text_2":["ccc","a"],"priority":0}"#)
        #expect(response.status == 200, "\(response.text)")
        let json = try expectConforms(response, "POST", "/score")
        #expect(json["data"]?.array?.map { $0["score"]?.number } == ["ccc", "a"].map(FakeScoringService.reward))
        #expect(json["data"]?[1]?["object"]?.string == "score" && json["data"]?[1]?["index"]?.int == 1)
        #expect(server.fake.received.last?.input == .contextPrompt(context: "", prompt: "q"))
        let pairs = await server.post("/score", #"{"text_1":["p","q"],"text_2":["x","yy"],"use_activation":true}"#)
        let scores = try expectConforms(pairs, "POST", "/score")["data"]?.array?.compactMap { $0["score"]?.number }
        #expect(scores == ["x", "yy"].map { Self.sigmoid(FakeScoringService.reward($0)) })
        #expect(server.fake.received.suffix(2).map(\.input).count == 2, "two prompts, two engine requests")
    }

    @Test func rerankInJinaShapeSortsCutsAndReturnsDocuments() async throws {
        let server = InMemoryAPI()
        for path in ["/rerank", "/v1/rerank"] {
            let response = await server.post(path, #"{"query":"q","documents":["ccc","a","bb"],"top_n":2}"#)
            #expect(response.status == 200, "\(response.text)")
            let json = try expectConforms(response, "POST", path)
            let results = try #require(json["results"]?.array)
            #expect(results.map { $0["index"]?.int } == [1, 2], "best first, cut to top_n")
            #expect(results.map { $0["relevance_score"]?.number } == ["a", "bb"].map(FakeScoringService.reward))
            #expect(results.map { $0["document"]?["text"]?.string } == ["a", "bb"])
        }
        // Any integer is schema-valid: one beyond the documents (and beyond Int32, as an integral float) keeps all.
        let huge = await server.post("/rerank", #"{"query":"q","documents":["bb","a"],"top_n":49079220059.0}"#)
        #expect(try expectConforms(huge, "POST", "/rerank")["results"]?.array?.count == 2, "\(huge.text)")
        let bare = await server.post("/rerank", #"{"query":"q","documents":["bb","a"],"return_documents":false}"#)
        let results = try #require(try expectConforms(bare, "POST", "/rerank")["results"]?.array)
        #expect(results.count == 2 && results.allSatisfy { $0["document"] == nil })
    }

    @Test func rerankInTEIShapeAnswersABareArrayWithSigmoidScores() async throws {
        let server = InMemoryAPI()
        let response = await server.post("/rerank", #"{"query":"q","texts":["bb","a"],"return_text":true}"#)
        #expect(response.status == 200, "\(response.text)")
        let json = try expectConforms(response, "POST", "/rerank")
        let ranks = try #require(json.array)
        #expect(ranks.map { $0["index"]?.int } == [1, 0])
        #expect(ranks.map { $0["score"]?.number } == ["a", "bb"].map { Self.sigmoid(FakeScoringService.reward($0)) })
        #expect(ranks.map { $0["text"]?.string } == ["a", "bb"])
        let raw = await server.post("/rerank", #"{"query":"q","texts":["bb","a"],"raw_scores":true}"#)
        let rawRanks = try #require(try expectConforms(raw, "POST", "/rerank").array)
        #expect(rawRanks.map { $0["score"]?.number } == ["a", "bb"].map(FakeScoringService.reward))
        #expect(rawRanks.allSatisfy { $0["text"] == nil })
    }

    @Test func badInputGetsVLLMErrorFieldsBesideOurs() async throws {
        let server = InMemoryAPI()
        let cases: [(String, String, String)] = [
            ("/classify", #"{"model":"m"}"#, "input"),
            ("/classify", #"{"input":5}"#, "input"),
            ("/classify", #"{"input":["a",""]}"#, "input[1]"),
            ("/classify", #"{"input":"a","activation":true,"use_activation":false}"#, "activation"),
            ("/v1/classify", #"{"input":"x","activation":"yes"}"#, "activation"),
            ("/score", #"{"text_1":["a","b"],"text_2":["x"]}"#, "text_2"),
            ("/score", #"{"text_1":"a","text_2":[]}"#, "text_2"),
            ("/score", #"{"text_2":"a"}"#, "text_1"),
            ("/rerank", #"{"query":"q"}"#, "documents"),
            ("/rerank", #"{"query":"q","documents":["a"],"texts":["a"]}"#, "texts"),
            ("/rerank", #"{"query":"q","documents":["a"],"raw_scores":true}"#, "raw_scores"),
            ("/rerank", #"{"query":"q","texts":["a"],"return_documents":true}"#, "return_documents"),
            ("/v1/rerank", #"{"query":"q","documents":["a"],"top_n":-1}"#, "top_n"),
            ("/v1/rerank", #"{"query":"","documents":["a"]}"#, "query"),
        ]
        for (path, body, field) in cases {
            let response = await server.post(path, body)
            #expect(response.status == 400, "\(path) \(body): \(response.text)")
            let json = try expectConforms(response, "POST", path)
            #expect(json["object"]?.string == "error" && json["code"]?.int == 400, "\(body): \(response.text)")
            #expect(
                json["type"]?.string == "bad_request" && json["param"]?.string == field, "\(body): \(response.text)")
            #expect(json["error"]?["field"]?.string == field && json["message"] == json["error"]?["message"])
        }
        let noHeader = await server.post("/classify", #"{"input":"no header"}"#)
        let json = try expectConforms(noHeader, "POST", "/classify")
        #expect(json["param"]?.string == "input[0]" && noHeader.status == 400)
        #expect(json["message"]?.string?.contains("prompts") == false, "/classify has no prompts field")
        let ours = await server.post("/v1/score", #"{"items":5}"#)
        #expect(try expectConforms(ours, "POST", "/v1/score")["object"] == nil, "our routes keep our shape")
    }

    @Test func engineErrorsKeepTheirStatusAndHeadersInTheVLLMShape() async throws {
        let fake = FakeScoringService()
        let server = InMemoryAPI(fake: fake)
        fake.fail(with: .overloaded(retryAfterSeconds: 3))
        let busy = await server.post("/score", #"{"text_1":"q","text_2":"a"}"#)
        #expect(busy.status == 429 && busy.header("Retry-After") == "3", "\(busy.text)")
        let json = try expectConforms(busy, "POST", "/score")
        #expect(json["type"]?.string == "queue_full" && json["code"]?.int == 429 && json["param"] == .null)
        fake.fail(with: .timedOut)
        let late = await server.post("/rerank", #"{"query":"q","texts":["a"]}"#)
        let lateJSON = try expectConforms(late, "POST", "/rerank")
        #expect(late.status == 504 && lateJSON["code"]?.int == 504)
        fake.fail(with: .unsupportedMethod(.classifier, reason: "no head"))
        let method = await server.post("/classify", "{\"input\":\(jsonString(Self.gemma + "a"))}")
        let methodJSON = try expectConforms(method, "POST", "/classify")
        #expect(methodJSON["type"]?.string == "unsupported_method")
    }
}
