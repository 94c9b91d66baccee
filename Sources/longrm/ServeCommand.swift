import ArgumentParser
import Foundation
import HTTPParser
import Logging
import Scoring
import Server

/// `longrm serve`: load the model, start the engine workers, serve HTTP until SIGTERM/SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the scoring API over HTTP/1.1.")

    @Option(help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "Port to listen on (0 = any free port, printed at start).")
    var port: Int = 8080

    @Option(name: .customLong("api-key"), help: "Require 'Authorization: Bearer <key>' (except /health, /ready, /metrics).")
    var apiKey: String?

    @Option(name: .customLong("default-method"), help: "Method when a request names none (default: classifier if the model has a head, else likelihood).")
    var defaultMethod: ScoringMethod?

    @Option(name: .customLong("timeout-ms"), help: "Default per-request deadline in milliseconds.")
    var timeoutMs: Int = 600_000

    @Option(name: .customLong("max-queue-requests"), help: "Queued requests beyond which new ones get 429.")
    var maxQueueRequests: Int = 256

    @Option(name: .customLong("max-queue-tokens"), help: "Queued tokens beyond which new requests get 429.")
    var maxQueueTokens: Int = 1_048_576

    @Option(name: .customLong("max-connections"), help: "Open connections served at once.")
    var maxConnections: Int = 512

    @Option(name: .customLong("max-body-bytes"), help: "Largest request body accepted.")
    var maxBodyBytes: Int = 64 << 20

    @Option(name: .customLong("drain-timeout-ms"), help: "On SIGTERM, how long requests in flight may take.")
    var drainTimeoutMs: Int = 30_000

    @OptionGroup var engine: EngineOptions

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0…65535") }
        guard timeoutMs > 0 else { throw ValidationError("--timeout-ms must be positive") }
        guard maxQueueRequests > 0, maxQueueTokens > 0 else { throw ValidationError("queue limits must be positive") }
        guard maxConnections > 0 else { throw ValidationError("--max-connections must be positive") }
        guard maxBodyBytes >= 1024 else { throw ValidationError("--max-body-bytes must be at least 1024") }
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        let logger = Logger(label: "longrm")
        logger.info("loading model", metadata: ["model": "\(engine.model)"])
        let scorer: Scorer
        do {
            scorer = try await Scorer.load(
                modelPath: engine.model, configuration: engine.configuration,
                queueLimits: EnginePool.QueueLimits(maxQueuedRequests: maxQueueRequests, maxQueuedTokens: maxQueueTokens))
        } catch {
            logger.critical("cannot start: \(error.message)")
            throw ExitCode(2)
        }
        logger.info("model loaded", metadata: [
            "name": "\(scorer.model.name)", "window": "\(scorer.window)", "methods": "\(scorer.methods.map(\.rawValue))",
            "load_seconds": "\(String(format: "%.2f", scorer.model.loadSeconds))",
        ])

        var configuration = ServerConfiguration(host: host, port: port)
        configuration.apiKey = apiKey
        configuration.authExemptPaths = ["/health", "/ready", "/metrics"]
        configuration.maxConnections = maxConnections
        configuration.limits.maxBodyBytes = maxBodyBytes
        configuration.drainTimeout = .milliseconds(drainTimeoutMs)
        let lifecycle = ServerLifecycle()
        let api = ScoringAPI(scorer: scorer, defaultMethod: defaultMethod, defaultTimeoutMs: timeoutMs,
                             lifecycle: lifecycle, openAPIDocument: OpenAPIDocument.load())
        var router = Router()
        api.register(into: &router)
        let server = HTTPServer(configuration: configuration, router: router, lifecycle: lifecycle, logger: logger)
        do {
            let bound = try server.bind()
            logger.info("listening", metadata: ["host": "\(host)", "port": "\(bound)"])
            try await server.run()
        } catch {
            logger.critical("cannot listen on \(host):\(port): \(error)")
            scorer.shutdown()
            throw ExitCode(2)
        }
        scorer.shutdown()
        logger.info("stopped")
    }
}

/// openapi.json is the contract and is served as is: from LONGRM_OPENAPI, the working directory, or the
/// source tree the binary was built from.
enum OpenAPIDocument {
    static func load() -> [UInt8]? {
        var candidates: [String] = []
        if let path = ProcessEnvironment.values["LONGRM_OPENAPI"] { candidates.append(path) }
        candidates.append(FileManager.default.currentDirectoryPath + "/openapi.json")
        let sourceRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(sourceRoot.appendingPathComponent("openapi.json").path)
        for path in candidates {
            if let data = FileManager.default.contents(atPath: path) { return Array(data) }
        }
        return nil
    }
}
