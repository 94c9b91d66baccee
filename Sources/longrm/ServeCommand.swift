import ArgumentParser
import Foundation
import HTTPParser
import Logging
import Scoring
import Server

/// `longrm serve`: load the model, start the engine workers, serve HTTP until a signal.
///
/// Settings come from flags, then `LONGRM_<FLAG>` variables, then `--config FILE`, then defaults; a bad
/// value exits with status 2 before anything starts. Signals: SIGTERM/SIGINT drain gracefully (`/ready`
/// answers 503 at once, requests in flight get `--drain-timeout-ms`) and exit 0; a second SIGTERM/SIGINT or a
/// SIGHUP stops at once (requests in flight are cancelled) and also exits 0. A model that cannot be loaded or
/// a port that cannot be bound exits with status 2.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the scoring API over HTTP/1.1.",
        discussion: """
            Every option can also be set with the environment variable named after it (--max-queue-requests: \
            LONGRM_MAX_QUEUE_REQUESTS; on/off flags take 1/true/yes/on or 0/false/no/off) or in a --config file \
            (JSON object or 'key = value' lines, keys as the flag names). A flag wins over its variable, which wins \
            over the file. Invalid values exit with status 2.

            Signals: SIGTERM or SIGINT drains (/ready answers 503 at once, new connections are refused, requests in \
            flight get --drain-timeout-ms, then are cancelled) and exits 0. A second SIGTERM/SIGINT, or SIGHUP, stops \
            at once (requests in flight are cancelled) and also exits 0. Exit status 2: bad settings, a model that \
            cannot be loaded, or an address that cannot be bound.
            """)

    typealias S = ServeSettings

    @Option(name: .customLong(S.config.flag), help: S.config.help) var config: String?
    @Flag(name: .customLong(S.checkConfig.flag), help: S.checkConfig.help) var checkConfig = false
    @Option(name: .customLong(S.host.flag), help: S.host.help) var host: String?
    @Option(name: .customLong(S.port.flag), help: S.port.help) var port: String?
    @Option(name: .customLong(S.apiKey.flag), help: S.apiKey.help) var apiKey: String?
    @Option(name: .customLong(S.defaultMethod.flag), help: S.defaultMethod.help) var defaultMethod: String?
    @Option(name: .customLong(S.timeoutMs.flag), help: S.timeoutMs.help) var timeoutMs: String?
    @Option(name: .customLong(S.maxQueueRequests.flag), help: S.maxQueueRequests.help) var maxQueueRequests: String?
    @Option(name: .customLong(S.maxQueueTokens.flag), help: S.maxQueueTokens.help) var maxQueueTokens: String?
    @Option(name: .customLong(S.maxConnections.flag), help: S.maxConnections.help) var maxConnections: String?
    @Option(name: .customLong(S.maxBodyBytes.flag), help: S.maxBodyBytes.help) var maxBodyBytes: String?
    @Option(name: .customLong(S.drainTimeoutMs.flag), help: S.drainTimeoutMs.help) var drainTimeoutMs: String?
    @Option(name: .customLong(S.logFormat.flag), help: S.logFormat.help) var logFormat: String?
    @Option(name: .customLong(S.logLevel.flag), help: S.logLevel.help) var logLevel: String?

    @OptionGroup var engine: EngineOptions

    func run() async throws {
        let settings: ServeConfiguration
        do {
            settings = try resolve()
        } catch {
            FileHandle.standardError.write(Data("longrm serve: invalid configuration: \(error)\n".utf8))
            throw ExitCode(2)
        }
        if checkConfig {
            for (flag, value, origin) in settings.effective {
                print("\(flag) = \(value)  # \(origin.name)")
            }
            return
        }
        let format = settings.logFormat, level = settings.logLevel
        LoggingSystem.bootstrap { label in StructuredLogHandler(label: label, format: format, level: level) }
        try await serve(settings)
    }

    /// Everything `serve` needs, resolved and checked.
    struct ServeConfiguration {
        var host = "", port = 0, apiKey: String?, defaultMethod: ScoringMethod?, timeoutMs = 0
        var maxQueueRequests = 0, maxQueueTokens = 0, maxConnections = 0, maxBodyBytes = 0, drainTimeoutMs = 0
        var logFormat = LogFormat.logfmt, logLevel = Logger.Level.info
        var model = "", engine = EngineConfiguration(), judge = JudgeConfiguration()
        var effective: [(flag: String, value: String, origin: ConfigOrigin)] = []
    }

    func resolve() throws(ConfigError) -> ServeConfiguration {
        let environment = ProcessEnvironment.values
        var bootstrap = ConfigResolver(environment: environment, file: nil)
        let file = try bootstrap.optionalString(S.config, cli: config).map { path throws(ConfigError) in
            try ConfigFile.load(path, knownFlags: S.fileKeys)
        }
        var r = ConfigResolver(environment: environment, file: file)
        var c = ServeConfiguration()
        c.host = try r.string(S.host, cli: host, default: "127.0.0.1")
        c.port = try r.int(S.port, cli: port, default: 8080, range: 0...65535)
        c.apiKey = try r.optionalString(S.apiKey, cli: apiKey)
        c.defaultMethod = try r.choice(S.defaultMethod, cli: defaultMethod, default: ScoringMethod?.none)
        c.timeoutMs = try r.int(S.timeoutMs, cli: timeoutMs, default: 600_000, range: 1...Int(Int32.max))
        c.maxQueueRequests = try r.int(S.maxQueueRequests, cli: maxQueueRequests, default: 256, range: 1...Int.max)
        c.maxQueueTokens = try r.int(S.maxQueueTokens, cli: maxQueueTokens, default: 1_048_576, range: 1...Int.max)
        c.maxConnections = try r.int(S.maxConnections, cli: maxConnections, default: 512, range: 1...1_000_000)
        c.maxBodyBytes = try r.int(S.maxBodyBytes, cli: maxBodyBytes, default: 64 << 20, range: 1024...Int.max)
        c.drainTimeoutMs = try r.int(S.drainTimeoutMs, cli: drainTimeoutMs, default: 30_000, range: 0...Int(Int32.max))
        c.logFormat = try r.choice(S.logFormat, cli: logFormat, default: LogFormat.logfmt) ?? .logfmt
        c.logLevel = try r.choice(S.logLevel, cli: logLevel, default: Logger.Level.info) ?? .info
        (c.model, c.engine) = try engine.resolve(&r)
        c.judge = try engine.resolveJudge(&r)
        c.effective = (file.map { [("config", $0.path, bootstrap.effective[0].origin)] } ?? []) + r.effective
        return c
    }

    private func serve(_ c: ServeConfiguration) async throws {
        let logger = Logger(label: "longrm")
        var effective: Logger.Metadata = [:]
        for (flag, value, origin) in c.effective {
            effective[flag.replacingOccurrences(of: "-", with: "_")] = .string(origin == .defaultValue ? value : "\(value) (\(origin.name))")
        }
        logger.info("configuration", metadata: effective)
        logger.info("loading model", metadata: ["model": "\(c.model)"])
        let scorer: Scorer
        do {
            scorer = try await Scorer.load(
                modelPath: c.model, configuration: c.engine,
                queueLimits: EnginePool.QueueLimits(maxQueuedRequests: c.maxQueueRequests, maxQueuedTokens: c.maxQueueTokens),
                judge: c.judge)
        } catch {
            logger.critical("cannot start: \(error.message)", metadata: ["model": "\(c.model)"])
            throw ExitCode(2)
        }
        logger.info("model loaded", metadata: [
            "name": "\(scorer.model.name)", "window": "\(scorer.window)", "methods": "\(scorer.methods.map(\.rawValue))",
            "load_seconds": "\(String(format: "%.2f", scorer.model.loadSeconds))",
            "cpu_variant": "\(scorer.model.cpuVariant.name)", "cpu_variants_built": "\(scorer.model.cpuVariant.available)",
        ])
        if let note = scorer.model.cpuVariant.note { logger.warning("cpu variant \(scorer.model.cpuVariant.name): \(note)") }

        let lifecycle = ServerLifecycle()
        let api = ScoringAPI(scorer: scorer, defaultMethod: c.defaultMethod, defaultTimeoutMs: c.timeoutMs,
                             lifecycle: lifecycle, openAPIDocument: OpenAPIDocument.load())
        var router = Router()
        api.register(into: &router)
        let routes = router
        let requestMetrics = RequestMetrics { path in
            path == HealthHandler.path || routes.hasRoute("GET", path) || routes.hasRoute("POST", path)
        }
        let metrics = MetricsEndpoint(requests: requestMetrics, scorer: scorer, lifecycle: lifecycle)
        metrics.register(into: &router)

        var configuration = ServerConfiguration(host: c.host, port: c.port)
        configuration.apiKey = c.apiKey
        configuration.authExemptPaths = [HealthHandler.path, "/ready", MetricsEndpoint.path]
        configuration.maxConnections = c.maxConnections
        configuration.limits.maxBodyBytes = c.maxBodyBytes
        configuration.drainTimeout = .milliseconds(c.drainTimeoutMs)
        configuration.observer = RequestObservers([requestMetrics, AccessLog()])
        let server = HTTPServer(configuration: configuration, router: router, lifecycle: lifecycle, logger: logger)
        metrics.attach(server)
        do {
            try server.bind()
            // SIGHUP: stop now. Cancelling run()'s task cancels connections and handlers without a drain.
            let serving = Task { try await server.run() }
            let hangup = HangupWatcher {
                logger.warning("SIGHUP: stopping now, requests in flight are cancelled")
                serving.cancel()
            }
            defer { hangup.cancel() }
            try await serving.value
        } catch {
            logger.critical("cannot listen on \(c.host):\(c.port): \(error)")
            scorer.shutdown()
            throw ExitCode(2)
        }
        scorer.shutdown()
        logger.info("exiting", metadata: ["status": "0"])
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

/// Runs a handler on SIGHUP (instead of the default action, which would end the process without a word).
// @unchecked Sendable: `source` is set once in init; Dispatch sources are thread-safe.
final class HangupWatcher: @unchecked Sendable {
    private let source: any DispatchSourceSignal

    init(_ handler: @escaping @Sendable () -> Void) {
        signal(SIGHUP, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler(handler: handler)
        source.resume()
    }

    /// Stops watching (the source was resumed, so it may be released) and restores the default action.
    func cancel() {
        source.cancel()
        signal(SIGHUP, SIG_DFL)
    }
}
