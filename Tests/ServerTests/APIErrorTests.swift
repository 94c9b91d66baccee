import Foundation
import HTTPParser
import Scoring
import Server
import Testing

/// Every error class of the scoring API: its status, its error body (type and the field it names), and
/// conformance to openapi.json.
@Suite("Scoring API: errors", .serialized)
struct APIErrorTests {
    static let pair = #""prompt":"Say hi.","responses":["hi","hello"]"#

    @Test func malformedAndEmptyBodies() async throws {
        let server = try await APIFixture.server()
        for path in ["/v1/pairwise", "/v1/best-of-n", "/v1/score", "/get_reward"] {
            let malformed = try await server.post(path, #"{"prompt":"x","responses":["#)
            try expectError(malformed, "POST", path, status: 400, type: "bad_request", field: nil, messageContains: "malformed JSON")
            let notObject = try await server.post(path, #"["a","b"]"#)
            try expectError(notObject, "POST", path, status: 400, type: "bad_request", field: nil)
            let empty = try await server.send("POST", path, body: [])
            try expectError(empty, "POST", path, status: 400, type: "bad_request", field: nil, messageContains: "empty")
        }
    }

    @Test func wrongTypesNameTheField() async throws {
        let server = try await APIFixture.server()
        let cases: [(String, String, String)] = [
            ("/v1/pairwise", #"{"prompt":"q","responses":"hi"}"#, "responses"),
            ("/v1/pairwise", #"{"prompt":5,"responses":["a","b"]}"#, "prompt"),
            ("/v1/pairwise", #"{"prompt":"q","responses":["a",7]}"#, "responses[1]"),
            ("/v1/best-of-n", #"{"messages":[{"role":"user","content":5}],"responses":["a","b"]}"#, "messages[0].content"),
            ("/v1/best-of-n", "{\(Self.pair),\"timeout_ms\":\"10\"}", "timeout_ms"),
            ("/v1/best-of-n", "{\(Self.pair),\"timeout_ms\":2.5}", "timeout_ms"),
            ("/v1/best-of-n", "{\(Self.pair),\"method\":true}", "method"),
            ("/v1/score", #"{"items":[{"prompt":"q","response":["a"]}]}"#, "items[0].response"),
            ("/get_reward", #"{"query":["a",3]}"#, "query[1]"),
            ("/get_reward", #"{"query":["a"],"prompts":"a"}"#, "prompts"),
        ]
        for (path, body, field) in cases {
            try expectError(try await server.post(path, body), "POST", path, status: 400, type: "bad_request", field: field)
        }
    }

    @Test func missingFieldsAreNamed() async throws {
        let server = try await APIFixture.server()
        let cases: [(String, String, String, String)] = [
            ("/v1/pairwise", #"{"prompt":"q"}"#, "responses", "required"),
            ("/v1/pairwise", #"{"responses":["a","b"]}"#, "prompt", "required"),
            ("/v1/best-of-n", #"{"messages":[{"role":"user"}],"responses":["a","b"]}"#, "messages[0].content", "required"),
            ("/v1/score", #"{"method":"likelihood"}"#, "items", "required"),
            ("/v1/score", #"{"items":[{"prompt":"q"}]}"#, "items[0].response", "required"),
            ("/get_reward", #"{"prompts":[]}"#, "query", "required"),
        ]
        for (path, body, field, message) in cases {
            try expectError(try await server.post(path, body), "POST", path, status: 400, type: "bad_request", field: field,
                            messageContains: message)
        }
    }

    @Test func unknownFieldsAreRefusedByNameExceptOnGetReward() async throws {
        let server = try await APIFixture.server()
        let cases: [(String, String, String)] = [
            ("/v1/pairwise", "{\(Self.pair),\"temperature\":0.5}", "temperature"),
            ("/v1/best-of-n", #"{"messages":[{"role":"user","content":"q","name":"x"}],"responses":["a","b"]}"#, "messages[0].name"),
            ("/v1/score", #"{"items":[{"prompt":"q","response":"a","weight":2}]}"#, "items[0].weight"),
            ("/v1/score", #"{"items":[],"normalise":"sum"}"#, "normalise"),
        ]
        for (path, body, field) in cases {
            let leaf = String(field.split(separator: ".").last!)
            try expectError(try await server.post(path, body), "POST", path, status: 400, type: "bad_request", field: field,
                            messageContains: leaf)
        }
        let tolerated = try await server.post("/get_reward", #"{"query":[],"labels":[1],"some_future_option":{"a":1}}"#)
        #expect(tolerated.status == 200, "get_reward ignores unknown fields: \(tolerated.text)")
    }

    @Test func responseCountsAndEmptyResponses() async throws {
        let server = try await APIFixture.server()
        for count in [1, 3] {
            let responses = (0..<count).map { "answer \($0)" }
            let response = try await server.post("/v1/pairwise", object: ["prompt": "q", "responses": responses])
            try expectError(response, "POST", "/v1/pairwise", status: 400, type: "bad_request", field: "responses",
                            messageContains: "2")
        }
        let one = try await server.post("/v1/best-of-n", object: ["prompt": "q", "responses": ["only"]])
        try expectError(one, "POST", "/v1/best-of-n", status: 400, type: "bad_request", field: "responses")
        let tooMany = try await server.post("/v1/best-of-n", object: ["prompt": "q", "responses": (0..<65).map { "answer \($0)" }])
        try expectError(tooMany, "POST", "/v1/best-of-n", status: 400, type: "bad_request", field: "responses", messageContains: "64")
        let emptyString = try await server.post("/v1/pairwise", object: ["prompt": "q", "responses": ["fine", ""]])
        try expectError(emptyString, "POST", "/v1/pairwise", status: 400, type: "bad_request", field: "responses[1]")
        let emptyItem = try await server.post("/v1/score", #"{"items":[{"prompt":"q","response":"a"},{"prompt":"q","response":""}]}"#)
        try expectError(emptyItem, "POST", "/v1/score", status: 400, type: "bad_request", field: "items[1]")
        let emptyQuery = try await server.post("/get_reward", #"{"query":["a",""]}"#)
        try expectError(emptyQuery, "POST", "/get_reward", status: 400, type: "bad_request", field: "query[1]")
        let mismatched = try await server.post("/get_reward", #"{"query":["a","b"],"prompts":["a"]}"#)
        try expectError(mismatched, "POST", "/get_reward", status: 400, type: "bad_request", field: "prompts")
        let manyItems = try await server.post("/v1/score", object: ["items": (0..<1025).map { _ in ["prompt": "q", "response": "a"] }])
        try expectError(manyItems, "POST", "/v1/score", status: 400, type: "bad_request", field: "items", messageContains: "1024")
    }

    @Test func promptFieldsMustBeOneShapeOrTheOther() async throws {
        let server = try await APIFixture.server()
        let both = try await server.post("/v1/pairwise", object: [
            "messages": [["role": "user", "content": "q"]], "context": "c", "responses": ["a", "b"],
        ])
        try expectError(both, "POST", "/v1/pairwise", status: 400, type: "bad_request", field: "messages")
        let neither = try await server.post("/v1/pairwise", #"{"context":"","prompt":"","responses":["a","b"]}"#)
        try expectError(neither, "POST", "/v1/pairwise", status: 400, type: "bad_request", field: "prompt")
        let noMessages = try await server.post("/v1/pairwise", #"{"messages":[],"responses":["a","b"]}"#)
        try expectError(noMessages, "POST", "/v1/pairwise", status: 400, type: "bad_request", field: "messages")
        let emptyRole = try await server.post("/v1/pairwise", #"{"messages":[{"role":"","content":"q"}],"responses":["a","b"]}"#)
        try expectError(emptyRole, "POST", "/v1/pairwise", status: 400, type: "bad_request", field: "messages[0].role")
    }

    @Test func optionValuesAreChecked() async throws {
        let server = try await APIFixture.server()
        let method = try await server.post("/v1/pairwise", "{\(Self.pair),\"method\":\"bogus\"}")
        try expectError(method, "POST", "/v1/pairwise", status: 400, type: "bad_request", field: "method", messageContains: "likelihood")
        let truncation = try await server.post("/v1/pairwise", "{\(Self.pair),\"truncation\":\"left\"}")
        try expectError(truncation, "POST", "/v1/pairwise", status: 400, type: "bad_request", field: "truncation", messageContains: "middle")
        let normalize = try await server.post("/v1/pairwise", "{\(Self.pair),\"method\":\"judge\",\"normalize\":\"mean\"}")
        try expectError(normalize, "POST", "/v1/pairwise", status: 400, type: "bad_request", field: "normalize")
        for value in ["0", "-5", "86400001"] {
            let timeout = try await server.post("/v1/best-of-n", "{\(Self.pair),\"timeout_ms\":\(value)}")
            try expectError(timeout, "POST", "/v1/best-of-n", status: 400, type: "bad_request", field: "timeout_ms",
                            messageContains: "86400000")
        }
    }

    @Test func classifierOnAModelWithoutAHeadIsUnsupported() async throws {
        let server = try await APIFixture.server()
        let response = try await server.post("/v1/pairwise", "{\(Self.pair),\"method\":\"classifier\"}")
        try expectError(response, "POST", "/v1/pairwise", status: 400, type: "unsupported_method", field: "method",
                        messageContains: "classifier")
    }

    @Test func contextLongerThanTheWindowIsRefusedUnlessTruncatedInTheMiddle() async throws {
        let server = try await APIFixture.server()
        let context = fillerContext(words: 2600, seed: 3, fact: "The access code for locker 17 is 4821.")
        var body: [String: Any] = [
            "context": context, "prompt": "What is the access code for locker 17?", "responses": ["4821", "5930"],
        ]
        let refused = try await server.post("/v1/pairwise", object: body)
        try expectError(refused, "POST", "/v1/pairwise", status: 400, type: "context_too_long", field: "context",
                        messageContains: "middle")

        body["truncation"] = "middle"
        let truncated = try await server.post("/v1/pairwise", object: body)
        #expect(truncated.status == 200, "\(truncated.text)")
        let json = try expectConforms(truncated, "POST", "/v1/pairwise")
        let removed = try #require(json["usage"]?["truncated_tokens"]?.int)
        #expect(removed > 0)
        let promptTokens = try #require(json["usage"]?["prompt_tokens"]?.int)
        let longest = try #require(json["usage"]?["response_tokens"]?.array).compactMap { $0.int }.max() ?? 0
        #expect(promptTokens + longest <= 2048, "truncated input must fit the 2048-token window")
    }

    @Test func deadlineThatPassesGives504() async throws {
        let server = try await APIFixture.server()
        // A context nobody has cached, so scoring takes far longer than the 1 ms deadline.
        let context = "Report \(UUID().uuidString). " + fillerContext(words: 1200, seed: 5)
        let response = try await server.post("/v1/best-of-n", object: [
            "context": context, "prompt": "Summarise.", "responses": ["A report.", "Nothing."], "timeout_ms": 1,
        ])
        try expectError(response, "POST", "/v1/best-of-n", status: 504, type: "timeout", field: nil)
    }

    @Test func bodyOverTheLimitIs413() async throws {
        let shared = try await APIFixture.server()
        _ = shared
        let scorer = try await APIFixture.scorer()
        let small = try APIServer(scorer: scorer) { $0.limits = HTTPLimits(maxBodyBytes: 1024) }
        let big = "{\"prompt\":\"q\",\"responses\":[\"\(String(repeating: "a", count: 2000))\",\"b\"]}"
        let response = try await small.post("/v1/pairwise", big)
        try expectError(response, "POST", "/v1/pairwise", status: 413, type: "payload_too_large", field: nil)
        #expect(response.header("Connection") == "close")
        let fits = try await small.post("/v1/pairwise", #"{"prompt":"q","responses":["a"]}"#)
        #expect(fits.status == 400, "a body under the limit reaches the handler: \(fits.text)")
        try await small.stop()
    }

    @Test func apiKeyGuardsEverythingButProbes() async throws {
        let scorer = try await APIFixture.scorer()
        let guarded = try APIServer(scorer: scorer) {
            $0.apiKey = "s3cret"
            $0.authExemptPaths = ["/health", "/ready", "/metrics"]
        }
        for (method, path) in [("POST", "/v1/pairwise"), ("GET", "/v1/models"), ("GET", "/openapi.json")] {
            let response = try await guarded.send(method, path, body: method == "POST" ? Array("{}".utf8) : nil)
            try expectError(response, method, path, status: 401, type: "unauthorized", field: nil)
            #expect(response.header("WWW-Authenticate") == "Bearer")
        }
        let authorized = try await guarded.post("/v1/pairwise", "{}", headers: [("Authorization", "Bearer s3cret")])
        try expectError(authorized, "POST", "/v1/pairwise", status: 400, type: "bad_request", field: "responses")
        for path in ["/health", "/ready"] {
            #expect(try await guarded.send("GET", path).status == 200, "\(path) needs no key")
        }
        try await guarded.stop()
    }

    @Test func unknownPathsAndMethods() async throws {
        let server = try await APIFixture.server()
        let missing = try await server.send("GET", "/v1/nothing")
        #expect(missing.status == 404)
        #expect(try JSONValue.parse(missing.body)["error"]?["type"]?.string == "not_found")
        let wrongMethod = try await server.send("GET", "/v1/pairwise")
        #expect(wrongMethod.status == 405 && wrongMethod.header("Allow") == "OPTIONS, POST")
        #expect(try JSONValue.parse(wrongMethod.body)["error"]?["type"]?.string == "method_not_allowed")
        let validator = try #require(APIFixture.validator)
        #expect(validator.validate(try JSONValue.parse(wrongMethod.body), .object(["$ref": .string("#/components/schemas/Error")])).isEmpty)
    }
}
