import ArgumentParser
import Foundation
import Scoring
import ServeConfig
import Server

/// Scores one request body from a file or stdin and prints the response JSON: the server's handlers
/// without the socket, for scripts and tests.
struct ScoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score one JSON request (same body as the HTTP API) and print the result.")

    @Option(help: "Endpoint whose body shape the input has: pairwise, best-of-n, score or get_reward.")
    var endpoint: String = "pairwise"

    @Option(
        name: .customLong("default-method"), help: "Method when the body names none: likelihood, classifier or judge.")
    var defaultMethod: ScoringMethod?

    @Argument(help: "Request file; '-' or nothing reads stdin.")
    var input: String = "-"

    @OptionGroup var engine: EngineOptions

    func run() async throws {
        let body: Data
        if input == "-" {
            body = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let data = FileManager.default.contents(atPath: input) else {
                throw ValidationError("cannot read \(input)")
            }
            body = data
        }
        let path: String
        switch endpoint {
        case "pairwise": path = "/v1/pairwise"
        case "best-of-n": path = "/v1/best-of-n"
        case "score": path = "/v1/score"
        case "get_reward", "get-reward": path = "/get_reward"
        default: throw ValidationError("unknown endpoint \(endpoint); use pairwise, best-of-n, score or get_reward")
        }
        let scorer: Scorer
        do {
            let (model, engineConfiguration) = try ServeConfiguration.resolveEngine(
                commandLine: engine.commandLine, environment: ProcessEnvironment.values)
            let judge = try ServeConfiguration.resolveJudge(
                commandLine: engine.commandLine, environment: ProcessEnvironment.values)
            scorer = try await Scorer.load(modelPath: model, configuration: engineConfiguration, judge: judge)
        } catch let error as ScoringError {
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            throw ExitCode(2)
        } catch {
            FileHandle.standardError.write(Data("error: invalid configuration: \(error)\n".utf8))
            throw ExitCode(2)
        }
        defer { scorer.shutdown() }
        var configuration = AppConfiguration()
        configuration.api.defaultMethod = defaultMethod
        configuration.accessLog = false
        let app = Application(configuration: configuration, service: scorer)
        let response = await app.post(path, body: Array(body))
        FileHandle.standardOutput.write(Data(response.body + [UInt8(ascii: "\n")]))
        if response.status != 200 { throw ExitCode(1) }
    }
}

extension ScoringMethod: ExpressibleByArgument {}
