import ArgumentParser
import Foundation
import HTTPParser
import Logging
import Scoring
import ServeConfig
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

    @Option(name: .customLong(S.config.flag), help: S.config.argumentHelp) var config: String?
    @Flag(name: .customLong(S.checkConfig.flag), help: S.checkConfig.argumentHelp) var checkConfig = false
    @Option(name: .customLong(S.host.flag), help: S.host.argumentHelp) var host: String?
    @Option(name: .customLong(S.port.flag), help: S.port.argumentHelp) var port: String?
    @Option(name: .customLong(S.apiKey.flag), help: S.apiKey.argumentHelp) var apiKey: String?
    @Option(name: .customLong(S.defaultMethod.flag), help: S.defaultMethod.argumentHelp) var defaultMethod: String?
    @Option(name: .customLong(S.timeoutMs.flag), help: S.timeoutMs.argumentHelp) var timeoutMs: String?
    @Option(name: .customLong(S.maxQueueRequests.flag), help: S.maxQueueRequests.argumentHelp) var maxQueueRequests:
        String?
    @Option(name: .customLong(S.maxQueueTokens.flag), help: S.maxQueueTokens.argumentHelp) var maxQueueTokens: String?
    @Option(name: .customLong(S.maxConnections.flag), help: S.maxConnections.argumentHelp) var maxConnections: String?
    @Option(name: .customLong(S.maxBodyBytes.flag), help: S.maxBodyBytes.argumentHelp) var maxBodyBytes: String?
    @Option(name: .customLong(S.drainTimeoutMs.flag), help: S.drainTimeoutMs.argumentHelp) var drainTimeoutMs: String?
    @Option(name: .customLong(S.logFormat.flag), help: S.logFormat.argumentHelp) var logFormat: String?
    @Option(name: .customLong(S.logLevel.flag), help: S.logLevel.argumentHelp) var logLevel: String?

    @OptionGroup var engine: EngineOptions

    func run() async throws {
        let settings: ServeConfiguration
        do {
            settings = try ServeConfiguration.resolve(commandLine: commandLine, environment: ProcessEnvironment.values)
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

    /// The values given on the command line, by flag name.
    private var commandLine: CommandLineValues {
        CommandLineValues(options: [
            S.config.flag: config, S.host.flag: host, S.port.flag: port, S.apiKey.flag: apiKey,
            S.defaultMethod.flag: defaultMethod, S.timeoutMs.flag: timeoutMs, S.maxQueueRequests.flag: maxQueueRequests,
            S.maxQueueTokens.flag: maxQueueTokens, S.maxConnections.flag: maxConnections,
            S.maxBodyBytes.flag: maxBodyBytes,
            S.drainTimeoutMs.flag: drainTimeoutMs, S.logFormat.flag: logFormat, S.logLevel.flag: logLevel,
        ]).merging(engine.commandLine)
    }

    private func serve(_ c: ServeConfiguration) async throws {
        let logger = Logger(label: "longrm")
        var effective: Logger.Metadata = [:]
        for (flag, value, origin) in c.effective {
            effective[flag.replacingOccurrences(of: "-", with: "_")] = .string(
                origin == .defaultValue ? value : "\(value) (\(origin.name))")
        }
        logger.info("configuration", metadata: effective)
        logger.info("loading model", metadata: ["model": "\(c.model)"])
        let scorer: Scorer
        do {
            scorer = try await Scorer.load(
                modelPath: c.model, configuration: c.engine, queueLimits: c.queueLimits, judge: c.judge)
        } catch {
            logger.critical("cannot start: \(error.message)", metadata: ["model": "\(c.model)"])
            throw ExitCode(2)
        }
        logger.info(
            "model loaded",
            metadata: [
                "name": "\(scorer.model.name)", "window": "\(scorer.window)",
                "methods": "\(scorer.methods.map(\.rawValue))",
                "load_seconds": "\(String(format: "%.2f", scorer.model.loadSeconds))",
                "cpu_variant": "\(scorer.model.cpuVariant.name)",
                "cpu_variants_built": "\(scorer.model.cpuVariant.available)",
            ])
        if let note = scorer.model.cpuVariant.note {
            logger.warning("cpu variant \(scorer.model.cpuVariant.name): \(note)")
        }
        defer { scorer.shutdown() }

        var configuration = c.app
        configuration.api.openAPIDocument = OpenAPIDocument.load()
        let app = Application(configuration: configuration, service: scorer, logger: logger)
        do {
            try app.server.bind()
            try await app.server.run()
        } catch {
            logger.critical("cannot listen on \(c.app.server.host):\(c.app.server.port): \(error)")
            throw ExitCode(2)
        }
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
        let sourceRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        candidates.append(sourceRoot.appendingPathComponent("openapi.json").path)
        for path in candidates {
            if let data = FileManager.default.contents(atPath: path) { return Array(data) }
        }
        return nil
    }
}
