import Foundation
import HTTPParser
import Logging
import Scoring
import Server
import Synchronization
import Testing

/// The repository root (this file is Tests/ServerTests/APITestSupport.swift).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// The real default model behind real servers, loaded once for every API test.
enum APIFixture {
    static var modelPath: String {
        let env = ProcessInfo.processInfo.environment
        if let path = env["LONGRM_DEFAULT_MODEL"] { return path }
        let cache = env["LONGRM_CACHE"] ?? (env["HOME"] ?? "/root") + "/.cache/longrm"
        return cache + "/models/gemma-3-270m-q4_k_m.gguf"
    }

    /// Small window and few sequences, so the suite is quick; `longrmEngineFlags` is the same for the CLI.
    static let engine = EngineConfiguration(contextSize: 2048, threads: 2, parallelSequences: 4)
    static let longrmEngineFlags = ["--ctx-size", "2048", "--threads", "2", "--parallel", "4"]

    private static let sharedScorer = Task { () throws -> Scorer in
        guard FileManager.default.fileExists(atPath: modelPath) else {
            throw TestFailure(description: "model missing at \(modelPath): run `make setup` (scripts/setup.sh) first")
        }
        return try await Scorer.load(modelPath: modelPath, configuration: engine)
    }
    private static let sharedServer = Task { () throws -> APIServer in
        try APIServer(service: try await sharedScorer.value)
    }

    static func scorer() async throws -> Scorer { try await sharedScorer.value }
    /// The suite's server (default limits, no API key); never stopped, it lives as long as the test process.
    static func server() async throws -> APIServer { try await sharedServer.value }

    /// openapi.json, as bytes and as a validator.
    static let specBytes: [UInt8] =
        (try? Array(Data(contentsOf: repositoryRoot.appendingPathComponent("openapi.json")))) ?? []
    static let validator: SchemaValidator? = (try? JSONValue.parse(specBytes)).map(SchemaValidator.init)
}

/// The application as `longrm serve` wires it, on 127.0.0.1 and an ephemeral port, with no signal handlers and
/// a quiet log; `configure` adjusts the rest.
func testConfiguration(_ configure: (inout AppConfiguration) -> Void = { _ in }) -> AppConfiguration {
    var config = AppConfiguration()
    config.server.host = "127.0.0.1"
    config.server.port = 0
    config.server.handleSignals = false
    config.server.lingerTimeout = .milliseconds(500)
    config.api.openAPIDocument = APIFixture.specBytes
    config.accessLog = false
    configure(&config)
    return config
}

/// The application (`Application`, the same wiring as `longrm serve`) behind a real socket.
final class APIServer: Sendable {
    let app: Application
    let port: Int
    private let task: Task<Void, any Error>

    var server: HTTPServer { app.server }

    init(service: any ScoringService, _ configure: (inout AppConfiguration) -> Void = { _ in }) throws {
        var logger = Logger(label: "test.api")
        logger.logLevel = .warning
        app = Application(configuration: testConfiguration(configure), service: service, logger: logger)
        port = try app.server.bind()
        task = Task { [app] in try await app.server.run() }
    }

    /// Shuts down and waits (bounded) for `run()` to return.
    func stop() async throws {
        server.shutdown()
        let done = Mutex(false)
        let waiter = Task { [task] in
            _ = await task.result; done.withLock { $0 = true }
        }
        if !(await eventually(timeout: .seconds(15)) { done.withLock { $0 } }) {
            waiter.cancel()
            throw TestFailure(description: "server did not stop within 15 s")
        }
    }

    /// One request on its own connection. Scoring takes seconds on an idle 2-core machine and minutes on a
    /// loaded one: the wait is long but bounded.
    func send(_ method: String, _ path: String, body: [UInt8]? = nil, headers: [(String, String)] = []) async throws
        -> RawResponse
    {
        let port = self.port
        let client = try await offPool { try RawClient(port: port, timeout: .seconds(600)) }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        if let body { head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        try await client.send(Array((head + "\r\n").utf8) + (body ?? []))
        return try await client.readResponse(headOnly: method == "HEAD")
    }

    func post(_ path: String, _ json: String, headers: [(String, String)] = []) async throws -> RawResponse {
        try await send("POST", path, body: Array(json.utf8), headers: headers)
    }

    func post(_ path: String, object: [String: Any]) async throws -> RawResponse {
        try await send("POST", path, body: Array(try JSONSerialization.data(withJSONObject: object)))
    }
}

/// Checks a response against openapi.json: the status is documented for the operation, required headers are
/// present, and a JSON body conforms to the documented schema. Returns the parsed body.
@discardableResult
func expectConforms(
    _ response: RawResponse, _ method: String, _ path: String,
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> JSONValue {
    let validator = try #require(
        APIFixture.validator, "openapi.json is missing or not JSON", sourceLocation: sourceLocation)
    let documented = try #require(
        validator.response(path: path, method: method, status: response.status),
        "\(method) \(path) answered \(response.status), which openapi.json does not document: \(response.text)",
        sourceLocation: sourceLocation)
    for (name, header) in documented["headers"]?.object ?? [:] {
        let header = validator.dereference(header)
        if header?["required"]?.bool == true {
            #expect(
                response.header(name) != nil, "\(method) \(path) \(response.status): required header \(name) missing",
                sourceLocation: sourceLocation)
        }
    }
    // Media type without parameters (`text/plain; version=0.0.4` is documented as `text/plain`).
    let contentType =
        (response.header("Content-Type") ?? "").split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces)
        } ?? ""
    #expect(
        documented["content"]?[contentType] != nil,
        "\(method) \(path) \(response.status): content type \(contentType) not documented",
        sourceLocation: sourceLocation)
    guard contentType == "application/json" else { return .null }
    let body = try JSONValue.parse(response.body)
    let schema = try #require(documented["content"]?["application/json"]?["schema"], sourceLocation: sourceLocation)
    let errors = validator.validate(body, schema)
    #expect(
        errors.isEmpty, "\(method) \(path) \(response.status) body breaks openapi.json: \(errors)\n\(response.text)",
        sourceLocation: sourceLocation)
    return body
}

/// Checks an error response: status, conformance, `error.type` and the named field.
func expectError(
    _ response: RawResponse, _ method: String, _ path: String, status: Int, type: String,
    field: String?, messageContains: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    #expect(
        response.status == status, "expected \(status), got \(response.status): \(response.text)",
        sourceLocation: sourceLocation)
    let body = try expectConforms(response, method, path, sourceLocation: sourceLocation)
    #expect(body["error"]?["type"]?.string == type, "\(response.text)", sourceLocation: sourceLocation)
    #expect(body["error"]?["field"]?.string == field, "field: \(response.text)", sourceLocation: sourceLocation)
    if let messageContains {
        #expect(
            body["error"]?["message"]?.string?.contains(messageContains) == true,
            "message should mention \(messageContains): \(response.text)", sourceLocation: sourceLocation)
    }
}

/// `longrm score` as a subprocess on the same body: the CLI runs the same handlers without a socket.
enum LongRMBinary {
    /// The `longrm` built with the tests (same build folder as the test bundle), else the default build.
    static var path: String? {
        var candidates: [URL] = []
        if let executable = Bundle.main.executableURL {
            candidates.append(executable.deletingLastPathComponent().appendingPathComponent("longrm"))
        }
        if let argument = CommandLine.arguments.first {
            candidates.append(
                URL(fileURLWithPath: argument).deletingLastPathComponent().appendingPathComponent("longrm"))
        }
        candidates.append(repositoryRoot.appendingPathComponent(".build/debug/longrm"))
        return candidates.map(\.path).first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `longrm score --endpoint ENDPOINT FILE` with the suite's engine flags; returns stdout and status.
    static func score(endpoint: String, body: String) async throws -> (status: Int32, stdout: [UInt8], stderr: String) {
        let binary = try #require(
            path, "longrm binary not found next to the test bundle or in .build/debug: run `swift build` first")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("longrm-api-\(UUID().uuidString).json")
        try Data(body.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        return try await offPool {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments =
                ["score", "--endpoint", endpoint, "--model", APIFixture.modelPath] + APIFixture.longrmEngineFlags + [
                    file.path
                ]
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            let stdout = out.fileHandleForReading.readDataToEndOfFile()
            let stderr = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, Array(stdout), String(decoding: stderr, as: UTF8.self))
        }
    }
}

/// Text of about `words` words with one fact in the middle, for grounding and window tests.
func fillerContext(words: Int, seed: Int, fact: String? = nil) -> String {
    let sentences = [
        "The harbour office opens early on weekdays, according to the regional guide.",
        "A quiet library keeps a ledger of every visitor, as most residents will tell you.",
        "The northern orchard was repainted last spring, which surprises many newcomers.",
        "An old railway depot hosts a small exhibition each autumn, despite the narrow access road.",
        "The river ferry employs three seasonal workers, and the tradition continues today.",
        "A mountain observatory is known for its long wooden benches, so visitors should plan ahead.",
        "The village bakery receives deliveries on Thursdays, according to the regional guide.",
        "The city archive closes during the winter storms, as most residents will tell you.",
    ]
    var out: [String] = []
    var count = 0
    var i = seed
    while count < words {
        let sentence = sentences[i % sentences.count]
        out.append(sentence)
        count += sentence.split(separator: " ").count
        i = (i % sentences.count) * 5 + 3
    }
    if let fact { out.insert(fact, at: out.count / 2) }
    return out.joined(separator: " ")
}

/// JSON string literal for `s`.
func jsonString(_ s: String) -> String {
    String(decoding: try! JSONEncoder().encode(s), as: UTF8.self)
}

/// The application in memory, on a fake engine: requests go through the API key check, the router and the
/// handlers exactly as from a socket, in microseconds.
struct InMemoryAPI {
    let app: Application
    let fake: FakeScoringService

    init(fake: FakeScoringService = FakeScoringService(), _ configure: (inout AppConfiguration) -> Void = { _ in }) {
        self.fake = fake
        app = Application(configuration: testConfiguration(configure), service: fake)
    }

    func send(_ method: String, _ path: String, body: [UInt8]? = nil, headers: [(String, String)] = []) async
        -> RawResponse
    {
        var fields = HTTPHeaders(headers)
        if let body {
            fields.add(name: "Content-Type", value: "application/json")
            fields.add(name: "Content-Length", value: String(body.count))
        }
        let request = HTTPRequest(method: method, target: path, version: .http11, headers: fields, body: body ?? [])
        let response = await app.respond(to: request)
        return RawResponse(
            status: response.status, headers: response.headers.fields.map { ($0.0, $0.1) },
            body: method == "HEAD" ? [] : response.body)
    }

    func post(_ path: String, _ json: String, headers: [(String, String)] = []) async -> RawResponse {
        await send("POST", path, body: Array(json.utf8), headers: headers)
    }

    func post(_ path: String, object: [String: Any]) async throws -> RawResponse {
        await send("POST", path, body: Array(try JSONSerialization.data(withJSONObject: object)))
    }
}
