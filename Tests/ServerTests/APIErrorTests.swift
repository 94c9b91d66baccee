import Foundation
import HTTPParser
import Scoring
import Server
import Testing

/// Every error class of the scoring API, in memory against the fake engine: its status, its error body (type
/// and the field it names), its headers, and conformance to openapi.json.
@Suite("Scoring API: errors (in memory)")
struct APIErrorTests {
    static let pair = #""prompt":"Say hi.","responses":["hi","hello"]"#

    @Test func malformedAndEmptyBodies() async throws {
        let server = InMemoryAPI()
        for path in ["/v1/pairwise", "/v1/best-of-n", "/v1/score", "/get_reward"] {
            let malformed = await server.post(path, #"{"prompt":"x","responses":["#)
            try expectError(
                malformed, "POST", path, status: 400, type: "bad_request", field: nil, messageContains: "malformed JSON"
            )
            let notObject = await server.post(path, #"["a","b"]"#)
            try expectError(notObject, "POST", path, status: 400, type: "bad_request", field: nil)
            let empty = await server.send("POST", path, body: [])
            try expectError(empty, "POST", path, status: 400, type: "bad_request", field: nil, messageContains: "empty")
        }
    }

    @Test func wrongTypesNameTheField() async throws {
        let server = InMemoryAPI()
        let cases: [(String, String, String)] = [
            ("/v1/pairwise", #"{"prompt":"q","responses":"hi"}"#, "responses"),
            ("/v1/pairwise", #"{"prompt":5,"responses":["a","b"]}"#, "prompt"),
            ("/v1/pairwise", #"{"prompt":"q","responses":["a",7]}"#, "responses[1]"),
            (
                "/v1/best-of-n", #"{"messages":[{"role":"user","content":5}],"responses":["a","b"]}"#,
                "messages[0].content"
            ),
            ("/v1/best-of-n", "{\(Self.pair),\"timeout_ms\":\"10\"}", "timeout_ms"),
            ("/v1/best-of-n", "{\(Self.pair),\"timeout_ms\":2.5}", "timeout_ms"),
            ("/v1/best-of-n", "{\(Self.pair),\"method\":true}", "method"),
            ("/v1/score", #"{"items":[{"prompt":"q","response":["a"]}]}"#, "items[0].response"),
            ("/get_reward", #"{"query":["a",3]}"#, "query[1]"),
            ("/get_reward", #"{"query":["a"],"prompts":"a"}"#, "prompts"),
        ]
        for (path, body, field) in cases {
            try expectError(await server.post(path, body), "POST", path, status: 400, type: "bad_request", field: field)
        }
    }

    @Test func missingFieldsAreNamed() async throws {
        let server = InMemoryAPI()
        let cases: [(String, String, String, String)] = [
            ("/v1/pairwise", #"{"prompt":"q"}"#, "responses", "required"),
            ("/v1/pairwise", #"{"responses":["a","b"]}"#, "prompt", "required"),
            (
                "/v1/best-of-n", #"{"messages":[{"role":"user"}],"responses":["a","b"]}"#, "messages[0].content",
                "required"
            ),
            ("/v1/score", #"{"method":"likelihood"}"#, "items", "required"),
            ("/v1/score", #"{"items":[{"prompt":"q"}]}"#, "items[0].response", "required"),
            ("/get_reward", #"{"prompts":[]}"#, "query", "required"),
        ]
        for (path, body, field, message) in cases {
            try expectError(
                await server.post(path, body), "POST", path, status: 400, type: "bad_request", field: field,
                messageContains: message)
        }
    }

    @Test func unknownFieldsAreRefusedByNameExceptOnGetReward() async throws {
        let server = InMemoryAPI()
        let cases: [(String, String, String)] = [
            ("/v1/pairwise", "{\(Self.pair),\"temperature\":0.5}", "temperature"),
            (
                "/v1/best-of-n", #"{"messages":[{"role":"user","content":"q","name":"x"}],"responses":["a","b"]}"#,
                "messages[0].name"
            ),
            ("/v1/score", #"{"items":[{"prompt":"q","response":"a","weight":2}]}"#, "items[0].weight"),
            ("/v1/score", #"{"items":[],"normalise":"sum"}"#, "normalise"),
        ]
        for (path, body, field) in cases {
            let leaf = String(field.split(separator: ".").last!)
            try expectError(
                await server.post(path, body), "POST", path, status: 400, type: "bad_request", field: field,
                messageContains: leaf)
        }
        // An empty key names no field (schemathesis found `"field": ""`): the error then concerns the object holding it.
        try expectError(
            await server.post("/v1/score", #"{"items":[],"":1}"#), "POST", "/v1/score", status: 400,
            type: "bad_request",
            field: nil, messageContains: "unknown field")
        try expectError(
            await server.post("/v1/score", #"{"items":[{"prompt":"q","response":"a","":2}]}"#), "POST", "/v1/score",
            status: 400, type: "bad_request", field: "items[0]", messageContains: "unknown field")
        let tolerated = await server.post("/get_reward", #"{"query":[],"labels":[1],"some_future_option":{"a":1}}"#)
        #expect(tolerated.status == 200, "get_reward ignores unknown fields: \(tolerated.text)")
    }

    @Test func responseCountsAndEmptyResponses() async throws {
        let server = InMemoryAPI()
        for count in [1, 3] {
            let responses = (0..<count).map { "answer \($0)" }
            let response = try await server.post("/v1/pairwise", object: ["prompt": "q", "responses": responses])
            try expectError(
                response, "POST", "/v1/pairwise", status: 400, type: "bad_request", field: "responses",
                messageContains: "2")
        }
        let one = try await server.post("/v1/best-of-n", object: ["prompt": "q", "responses": ["only"]])
        try expectError(one, "POST", "/v1/best-of-n", status: 400, type: "bad_request", field: "responses")
        let tooMany = try await server.post(
            "/v1/best-of-n", object: ["prompt": "q", "responses": (0..<65).map { "answer \($0)" }])
        try expectError(
            tooMany, "POST", "/v1/best-of-n", status: 400, type: "bad_request", field: "responses",
            messageContains: "64")
        let emptyString = try await server.post("/v1/pairwise", object: ["prompt": "q", "responses": ["fine", ""]])
        try expectError(emptyString, "POST", "/v1/pairwise", status: 400, type: "bad_request", field: "responses[1]")
        let emptyItem = await server.post(
            "/v1/score", #"{"items":[{"prompt":"q","response":"a"},{"prompt":"q","response":""}]}"#)
        try expectError(emptyItem, "POST", "/v1/score", status: 400, type: "bad_request", field: "items[1]")
        let emptyQuery = await server.post("/get_reward", #"{"query":["a",""]}"#)
        try expectError(emptyQuery, "POST", "/get_reward", status: 400, type: "bad_request", field: "query[1]")
        let mismatched = await server.post("/get_reward", #"{"query":["a","b"],"prompts":["a"]}"#)
        try expectError(mismatched, "POST", "/get_reward", status: 400, type: "bad_request", field: "prompts")
        let manyItems = try await server.post(
            "/v1/score", object: ["items": (0..<1025).map { _ in ["prompt": "q", "response": "a"] }])
        try expectError(
            manyItems, "POST", "/v1/score", status: 400, type: "bad_request", field: "items", messageContains: "1024")
    }

    @Test func promptFieldsMustBeOneShapeOrTheOther() async throws {
        let server = InMemoryAPI()
        let both = try await server.post(
            "/v1/pairwise",
            object: [
                "messages": [["role": "user", "content": "q"]], "context": "c", "responses": ["a", "b"],
            ])
        try expectError(both, "POST", "/v1/pairwise", status: 400, type: "bad_request", field: "messages")
        let noMessages = await server.post("/v1/pairwise", #"{"messages":[],"responses":["a","b"]}"#)
        try expectError(noMessages, "POST", "/v1/pairwise", status: 400, type: "bad_request", field: "messages")
        let scoreItem = await server.post(
            "/v1/score", #"{"items":[{"prompt":"q","response":"a"},{"messages":[],"response":"a"}]}"#)
        try expectError(scoreItem, "POST", "/v1/score", status: 400, type: "bad_request", field: "items[1].messages")
    }

    @Test func optionValuesAreChecked() async throws {
        let server = InMemoryAPI()
        let method = await server.post("/v1/pairwise", "{\(Self.pair),\"method\":\"bogus\"}")
        try expectError(
            method, "POST", "/v1/pairwise", status: 400, type: "bad_request", field: "method",
            messageContains: "likelihood")
        let truncation = await server.post("/v1/pairwise", "{\(Self.pair),\"truncation\":\"left\"}")
        try expectError(
            truncation, "POST", "/v1/pairwise", status: 400, type: "bad_request", field: "truncation",
            messageContains: "middle")
        for value in ["0", "-5", "86400001"] {
            let timeout = await server.post("/v1/best-of-n", "{\(Self.pair),\"timeout_ms\":\(value)}")
            try expectError(
                timeout, "POST", "/v1/best-of-n", status: 400, type: "bad_request", field: "timeout_ms",
                messageContains: "86400000")
        }
        #expect(server.fake.received.isEmpty, "no bad request reaches the engine")
    }

    /// Each engine error, on every scoring endpoint: its status, type, field and headers.
    @Test func engineErrorsMapToTheirStatusAndType() async throws {
        let cases: [(ScoringError, Int, String, String?)] = [
            (.contextTooLong(needed: 3000, available: 2048), 400, "context_too_long", "context"),
            (.unsupportedMethod(.classifier, reason: "no head"), 400, "unsupported_method", "method"),
            (.overloaded(retryAfterSeconds: 3), 429, "queue_full", nil),
            (.timedOut, 504, "deadline_exceeded", nil),
            (.engineFailure("boom"), 500, "internal", nil),
        ]
        let bodies = [
            "/v1/pairwise": "{\(Self.pair)}", "/v1/best-of-n": "{\(Self.pair)}",
            "/v1/score": #"{"items":[{"prompt":"q","response":"a"}]}"#,
            "/get_reward": #"{"query":["q a"],"prompts":["q"]}"#,
        ]
        let server = InMemoryAPI()
        for (error, status, type, field) in cases {
            server.fake.fail(with: error)
            for (path, body) in bodies.sorted(by: { $0.key < $1.key }) {
                let response = await server.post(path, body)
                try expectError(response, "POST", path, status: status, type: type, field: field)
                #expect(response.header("Retry-After") == (status == 429 ? "3" : nil), "\(path) \(type)")
            }
        }
        server.fake.fail(with: .contextTooLong(needed: 3000, available: 2048))
        let tooLong = await server.post("/v1/pairwise", "{\(Self.pair)}")
        try expectError(
            tooLong, "POST", "/v1/pairwise", status: 400, type: "context_too_long", field: "context",
            messageContains: "3000")
    }

    @Test func anEngineErrorAboutAResponseNamesTheItemItCameFrom() async throws {
        let server = InMemoryAPI()
        // Items 0 and 2 share a prompt (one engine request: responses[0], responses[1]); item 3 is alone.
        let response = await server.post(
            "/v1/score",
            """
            {"items":[{"prompt":"p","response":"a"},{"prompt":"q","response":"b"},{"prompt":"p","response":""},
                      {"prompt":"r","response":"c"}]}
            """)
        try expectError(response, "POST", "/v1/score", status: 400, type: "bad_request", field: "items[2]")
        let query = await server.post("/get_reward", #"{"query":["x y","x z"],"prompts":["x","x"]}"#)
        #expect(query.status == 200, "\(query.text)")
    }

    @Test func bodyOverTheLimitIs413() async throws {
        let small = try APIServer(service: FakeScoringService()) { $0.server.limits = HTTPLimits(maxBodyBytes: 1024) }
        let big = "{\"prompt\":\"q\",\"responses\":[\"\(String(repeating: "a", count: 2000))\",\"b\"]}"
        let response = try await small.post("/v1/pairwise", big)
        try expectError(response, "POST", "/v1/pairwise", status: 413, type: "payload_too_large", field: nil)
        #expect(response.header("Connection") == "close")
        let fits = try await small.post("/v1/pairwise", #"{"prompt":"q","responses":["a"]}"#)
        #expect(fits.status == 400, "a body under the limit reaches the handler: \(fits.text)")
        try await small.stop()
    }

    @Test func apiKeyGuardsEverythingButProbes() async throws {
        let guarded = InMemoryAPI { $0.server.apiKey = "s3cret" }
        for (method, path) in [("POST", "/v1/pairwise"), ("GET", "/v1/models"), ("GET", "/openapi.json")] {
            let response = await guarded.send(method, path, body: method == "POST" ? Array("{}".utf8) : nil)
            try expectError(response, method, path, status: 401, type: "unauthorized", field: nil)
            #expect(response.header("WWW-Authenticate") == "Bearer")
        }
        let authorized = await guarded.post("/v1/pairwise", "{}", headers: [("Authorization", "Bearer s3cret")])
        try expectError(authorized, "POST", "/v1/pairwise", status: 400, type: "bad_request", field: "responses")
        for path in ["/health", "/ready", "/metrics"] {
            #expect(await guarded.send("GET", path).status == 200, "\(path) needs no key")
        }
    }

    @Test func unknownPathsAndMethods() async throws {
        let server = InMemoryAPI()
        let missing = await server.send("GET", "/v1/nothing")
        #expect(missing.status == 404)
        #expect(try JSONValue.parse(missing.body)["error"]?["type"]?.string == "not_found")
        let wrongMethod = await server.send("GET", "/v1/pairwise")
        #expect(wrongMethod.status == 405 && wrongMethod.header("Allow") == "OPTIONS, POST")
        #expect(try JSONValue.parse(wrongMethod.body)["error"]?["type"]?.string == "method_not_allowed")
        let validator = try #require(APIFixture.validator)
        #expect(
            validator.validate(
                try JSONValue.parse(wrongMethod.body), .object(["$ref": .string("#/components/schemas/Error")])
            ).isEmpty)
    }

    /// openapi.json's `Error.type` enum and the README's table list exactly the catalogue.
    @Test func theCatalogueIsDocumented() throws {
        let spec = try JSONValue.parse(APIFixture.specBytes)
        let documented =
            spec["components"]?["schemas"]?["Error"]?["properties"]?["error"]?["properties"]?["type"]?["enum"]?
            .array?.compactMap(\.string) ?? []
        #expect(Set(documented) == Set(ErrorCode.allCases.map(\.rawValue)), "openapi.json Error.type vs ErrorCode")
        let readme = try String(contentsOf: repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        for code in ErrorCode.allCases {
            #expect(
                readme.contains("| \(code.status) | `\(code.rawValue)` |"),
                "README lacks \(code.status) \(code.rawValue)")
        }
        let types = ErrorCode.allCases.map(\.rawValue)
        #expect(Set(types).count == types.count, "each type names one error")
    }
}
